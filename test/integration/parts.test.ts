/**
 * Parts against a real linesight process, on SQLite and on PostgreSQL: the part rules (`any`,
 * `majority`), how parts close (station burst, PART_IDLE_MS, request) and the HTTP contract of
 * issue 14 (trigger, detect with `part`, part by id, listing and CSV, close).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PartCounts } from '../../shared/domain/part-counts.ts'
import type { PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { TriggerMessage } from '../../shared/protocol/messages/trigger.ts'
import { pgSchema, type PgSchema } from '../helpers/pg.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

const pgUrl = process.env.DATABASE_URL
const samples = new Map(loadSamples().map((s) => [s.case, s.bytes]))
const clean = samples.get('clean-part')!
const scratched = samples.get('scratch')!
// long enough that a loaded machine (CI runs suites side by side on 2 cores) never closes a part
// between two of a test's requests; only the PART_IDLE_MS test waits for it
const IDLE_MS = 8000

interface Backend {
  name: string
  env(): Promise<Record<string, string>>
  cleanup(): Promise<void>
}

let schema: PgSchema | undefined

const BACKENDS: Backend[] = [
  { name: 'sqlite', env: async () => ({}), cleanup: async () => undefined },
  {
    name: 'postgres',
    env: async () => {
      schema = await pgSchema(pgUrl!, 'ls_parts')
      return { DATABASE_URL: schema.url }
    },
    cleanup: async () => schema?.drop(),
  },
]

describe.each(BACKENDS.filter((b) => b.name === 'sqlite' || pgUrl))('parts on $name', (backend) => {
  let server: RunningServer
  let n = 0
  const line = () => `PL${++n}`
  const api = (path: string, init: RequestInit = {}) => server.admin(path, init)
  const json = async <T>(res: Response, status = 200): Promise<T> => {
    const body = await res.text()
    expect(res.status, body).toBe(status)
    return JSON.parse(body) as T
  }
  const detect = async (l: string, part: string, bytes: Uint8Array) =>
    json<InspectionResult>(await api(`/api/v1/detect?line=${l}&station=S1&part=${encodeURIComponent(part)}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: bytes as BodyInit }))
  const getPart = async (l: string, part: string) => json<PartRecord>(await api(`/api/v1/lines/${l}/parts/${encodeURIComponent(part)}`))
  const setInspection = async (l: string, inspection: object) =>
    json(await api(`/api/v1/lines/${l}/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inspection }) }))
  const inspection = (over: object = {}) => ({ mode: 'continuous', rule: 'any', burstFrames: 2, presenceFrames: 3, holdFailures: true, stations: {}, ...over })

  beforeAll(async () => {
    server = await startServer({ env: { PART_IDLE_MS: String(IDLE_MS), ...(await backend.env()) } })
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
    await backend.cleanup()
  })

  it('attaches detect frames to the part named by ?part=, answers an open part with closedAt null, and closes it on request', async () => {
    const l = line()
    const id = 'SN-1000/A#7'
    const a = await detect(l, id, clean)
    const b = await detect(l, id, scratched)
    const c = await detect(l, id, clean)
    for (const r of [a, b, c]) expect(r.partId).toBe(id)
    expect((await json<InspectionResult>(await api(`/api/v1/results/${b.frameId}`))).partId).toBe(id)

    const open = await getPart(l, id)
    expect(open).toMatchObject({ partId: id, line: l, station: 'S1', verdict: 'fail', closedAt: null, idSource: 'http' })
    expect([...open.frames].sort()).toEqual([a.frameId, b.frameId, c.frameId].sort())

    const closed = await json<PartRecord>(await api(`/api/v1/lines/${l}/parts/${encodeURIComponent(id)}/close`, { method: 'POST' }))
    expect(closed).toMatchObject({ partId: id, verdict: 'fail', closedBy: 'request' })
    expect(closed.closedAt).toBeGreaterThanOrEqual(closed.openedAt)
    // the defects that decided it: the scratched frame's defect classes, never the part itself
    expect(closed.defects.length).toBeGreaterThan(0)
    expect(new Set(closed.defects.map((d) => d.frameId))).toEqual(new Set([b.frameId]))
    expect(closed.defects.map((d) => d.class)).not.toContain('part')
    expect(await getPart(l, id)).toEqual(closed)
  })

  it('passes a part under the majority rule when one frame of three fails, and fails it when two do', async () => {
    const l = line()
    await setInspection(l, inspection({ rule: 'majority' }))
    for (const bytes of [clean, scratched, clean]) await detect(l, 'M-1', bytes)
    const majority = await json<PartRecord>(await api(`/api/v1/lines/${l}/parts/M-1/close`, { method: 'POST' }))
    expect(majority).toMatchObject({ verdict: 'pass', defects: [] })
    for (const bytes of [scratched, scratched, clean]) await detect(l, 'M-2', bytes)
    expect(await json<PartRecord>(await api(`/api/v1/lines/${l}/parts/M-2/close`, { method: 'POST' }))).toMatchObject({ verdict: 'fail' })
  })

  it('closes a part nobody closes after PART_IDLE_MS, with the verdict of its frames', async () => {
    const l = line()
    const r = await detect(l, 'IDLE-1', clean)
    const part = await waitFor(async () => {
      const p = await getPart(l, 'IDLE-1')
      return p.closedAt !== null ? p : undefined
    }, { timeoutMs: 30_000, what: 'the idle part to close' })
    expect(part).toMatchObject({ verdict: 'pass', closedBy: 'idle', frames: [r.frameId] })
  })

  it('sends an HTTP trigger to the station in trigger mode, and closes the part when its burst has its results', async () => {
    const l = line()
    await setInspection(l, inspection({ stations: { S1: { mode: 'trigger' } }, burstFrames: 2 }))
    const station = await StationClient.connect(server.url, { line: l, station: 'S1' })
    try {
      const started = await json<{ partId: string }>(await api(`/api/v1/lines/${l}/stations/S1/trigger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partId: 'PLC-77' }) }))
      expect(started.partId).toBe('PLC-77')
      const trigger = await waitFor(() => station.messages.find((m): m is TriggerMessage => m.type === 'trigger'), { timeoutMs: 10_000, what: 'the trigger message' })
      expect(trigger).toEqual({ type: 'trigger', partId: 'PLC-77', frames: 2 })
      expect(await getPart(l, 'PLC-77')).toMatchObject({ verdict: null, frames: [], closedAt: null, idSource: 'trigger' })

      const ids = [`t-${l}-1`, `t-${l}-2`]
      station.send({ frameId: ids[0]!, bytes: clean, partId: 'PLC-77' })
      station.send({ frameId: ids[1]!, bytes: scratched, partId: 'PLC-77' })
      station.sendMessage({ type: 'part-end', partId: 'PLC-77', frames: ids, reason: 'burst', idSource: 'trigger' })
      await station.settled()
      expect(station.results.get(ids[0]!)?.[0]?.partId).toBe('PLC-77')
      const part = await waitFor(async () => {
        const p = await getPart(l, 'PLC-77')
        return p.closedAt !== null ? p : undefined
      }, { timeoutMs: 20_000, what: 'the burst part to close' })
      expect(part).toMatchObject({ verdict: 'fail', closedBy: 'burst', idSource: 'trigger', frames: ids })
      expect(station.protocolErrors).toEqual([])
    } finally {
      await station.close()
    }
  })

  it('gives a trigger without a part id the station\'s next sequence id', async () => {
    const l = line()
    await setInspection(l, inspection({ mode: 'trigger' }))
    const station = await StationClient.connect(server.url, { line: l, station: 'S9' })
    try {
      const a = await json<{ partId: string }>(await api(`/api/v1/lines/${l}/stations/S9/trigger`, { method: 'POST' }))
      const b = await json<{ partId: string }>(await api(`/api/v1/lines/${l}/stations/S9/trigger`, { method: 'POST' }))
      expect(a.partId).toMatch(/^S9-/)
      expect(b.partId).not.toBe(a.partId)
      expect((await getPart(l, a.partId)).idSource).toBe('sequence')
    } finally {
      await station.close()
    }
  })

  it('refuses triggers with coded errors: not in trigger mode, station not connected, bad part id, bad body', async () => {
    const l = line()
    const post = (path: string, body?: string) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) })
    const code = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code })
    expect(await code(await post(`/api/v1/lines/${l}/stations/S1/trigger`))).toEqual({ status: 409, code: 'not_trigger_mode' })
    await setInspection(l, inspection({ mode: 'trigger' }))
    expect(await code(await post(`/api/v1/lines/${l}/stations/S1/trigger`))).toEqual({ status: 409, code: 'station_offline' })
    expect(await code(await post(`/api/v1/lines/${l}/stations/S1/trigger`, JSON.stringify({ partId: 'has space' })))).toEqual({ status: 400, code: 'bad_part' })
    expect(await code(await post(`/api/v1/lines/${l}/stations/S1/trigger`, '{nope'))).toEqual({ status: 400, code: 'bad_json' })
    expect(await code(await api(`/api/v1/detect?line=${l}&station=S1&part=${encodeURIComponent('a b')}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: clean as BodyInit }))).toEqual({ status: 400, code: 'bad_part' })
    expect(await code(await api(`/api/v1/lines/${l}/parts/nope`))).toEqual({ status: 404, code: 'not_found' })
    expect(await code(await post(`/api/v1/lines/${l}/parts/nope/close`))).toEqual({ status: 404, code: 'not_found' })
  })

  it('lists a line\'s parts newest first, filtered by verdict, in pages and as CSV', async () => {
    const l = line()
    await detect(l, 'L-pass', clean)
    await detect(l, 'L-fail', scratched)
    await detect(l, 'L-open', clean)
    for (const id of ['L-pass', 'L-fail']) await json(await api(`/api/v1/lines/${l}/parts/${id}/close`, { method: 'POST' }))
    const all = await json<{ items: PartRecord[] }>(await api(`/api/v1/lines/${l}/parts`))
    expect(all.items.map((p) => p.partId)).toEqual(['L-open', 'L-fail', 'L-pass'])
    const failed = await json<{ items: PartRecord[] }>(await api(`/api/v1/lines/${l}/parts?verdict=fail`))
    expect(failed.items.map((p) => p.partId)).toEqual(['L-fail'])
    const page = await json<{ items: PartRecord[]; nextCursor?: string }>(await api(`/api/v1/lines/${l}/parts?limit=2`))
    const rest = await json<{ items: PartRecord[]; nextCursor?: string }>(await api(`/api/v1/lines/${l}/parts?limit=2&cursor=${page.nextCursor}`))
    expect([...page.items, ...rest.items].map((p) => p.partId)).toEqual(['L-open', 'L-fail', 'L-pass'])
    expect(rest.nextCursor).toBeUndefined()
    const future = await json<{ items: PartRecord[] }>(await api(`/api/v1/lines/${l}/parts?from=${Date.now() + 60_000}`))
    expect(future.items).toEqual([])

    const csv = await api(`/api/v1/lines/${l}/parts?format=csv&verdict=fail`)
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/)
    const rows = (await csv.text()).trim().split('\r\n')
    expect(rows[0]).toBe('partId,line,station,verdict,openedAt,closedAt,closedBy,idSource,frames,defects,defectClasses')
    expect(rows.slice(1).map((r) => r.split(',').slice(0, 4))).toEqual([['L-fail', l, 'S1', 'fail']])
    expect((await api(`/api/v1/lines/${l}/parts?verdict=maybe`)).status).toBe(400)
    expect((await api(`/api/v1/lines/${l}/parts?cursor=garbage`)).status).toBe(400)
  })

  it('counts closed parts for the kiosk: this shift (or the last hours) and each recent hour, with their yield', async () => {
    const l = line()
    await detect(l, 'C-pass', clean)
    await detect(l, 'C-fail', scratched)
    for (const id of ['C-pass', 'C-fail']) await json(await api(`/api/v1/lines/${l}/parts/${id}/close`, { method: 'POST' }))
    const counts = await json<PartCounts>(await api(`/api/v1/lines/${l}/part-counts?hours=3`))
    expect(counts.current).toEqual({ inspected: 2, failed: 1, yield: 0.5 })
    expect(counts.hours).toHaveLength(3)
    // summed: the two parts may straddle an hour's end
    expect(counts.hours.reduce((n, h) => n + h.inspected, 0)).toBe(2)
    expect(counts.hours.reduce((n, h) => n + h.failed, 0)).toBe(1)
    expect(counts.hours.filter((h) => h.inspected === 0).every((h) => h.yield === null)).toBe(true)
    expect((await api(`/api/v1/lines/${l}/part-counts?hours=0`)).status).toBe(400)
  })
})
