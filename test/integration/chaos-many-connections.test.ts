/**
 * Chaos: 50 stations and 20 kiosks on one all-in-one process over loopback, plus one kiosk that
 * subscribes and then never reads. Reports memory per connection and the result fan-out latency
 * (station result -> kiosk result, both seen in this process: one clock); asserts that every
 * frame has exactly one result and one record, that every reading kiosk saw every result, and
 * that the stalled kiosk held no one back. No wall-clock assert.
 */
import { readFile } from 'node:fs/promises'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeMessage } from '../../shared/protocol/codec.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { KioskClient, StationClient } from '../helpers/station-client.ts'
import { recordedResults } from '../helpers/station-page.ts'
import { waitFor } from '../helpers/wait.ts'

const STATIONS = 50
const KIOSKS = 20
const FRAMES_PER_STATION = 3
const LINES = ['C1', 'C2', 'C3', 'C4', 'C5']

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

let server: RunningServer
const stations: StationClient[] = []
const kiosks: KioskClient[] = []
let stalled: WebSocket | undefined

beforeAll(async () => {
  // the smallest buffer a kiosk may hold before it is skipped: the stalled one gets there first
  server = await startServer({ env: { KIOSK_MAX_BUFFERED_BYTES: '1024' } })
})

afterAll(async () => {
  for (const c of [...stations, ...kiosks]) await c.close().catch(() => undefined)
  stalled?.terminate()
  await server?.stop()
})

describe('50 stations and 20 kiosks at once', () => {
  it('fans every result out to every reading kiosk, and a kiosk that never reads holds no one back', async () => {
    const pid = server.proc.pid!
    const before = await rssMb(pid)
    for (let i = 0; i < STATIONS; i++) stations.push(await StationClient.connect(server.url, { line: LINES[i % LINES.length]!, station: `S${i + 1}` }))
    for (let i = 0; i < KIOSKS; i++) kiosks.push(await KioskClient.connect(server.url, LINES))
    stalled = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws/kiosk`, { perMessageDeflate: false, headers: { authorization: `Bearer ${server.adminToken}` } })
    await new Promise<void>((resolve, reject) => {
      stalled!.once('open', () => resolve())
      stalled!.once('error', reject)
    })
    stalled.send(encodeMessage({ type: 'subscribe', lines: LINES }))
    stalled.on('error', () => undefined)
    // never read again: its socket fills on our side, then in the server's buffer
    stalled.pause()
    const connected = await rssMb(pid)
    const perConnectionKb = ((connected - before) * 1024) / (STATIONS + KIOSKS + 1)
    console.log(`chaos-many: RSS ${before.toFixed(1)} -> ${connected.toFixed(1)} MB with ${STATIONS + KIOSKS + 1} connections: ${perConnectionKb.toFixed(0)} kB each`)

    const samples = loadSamples()
    const stationSeen = new Map<string, number>()
    const kioskSeen: Map<string, number>[] = kiosks.map(() => new Map())
    const sweep = () => {
      const now = Date.now()
      for (const s of stations) for (const id of s.results.keys()) if (!stationSeen.has(id)) stationSeen.set(id, now)
      kiosks.forEach((k, i) => {
        for (const r of k.results) if (!kioskSeen[i]!.has(r.frameId)) kioskSeen[i]!.set(r.frameId, now)
      })
    }
    const watch = setInterval(sweep, 10)
    try {
      await Promise.all(
        stations.map((s, i) =>
          s.sendAll(
            Array.from({ length: FRAMES_PER_STATION }, (_, k) => {
              const sample = samples[(i + k) % samples.length]!
              return { frameId: `${s.station}-f${k}`, bytes: sample.bytes, width: sample.width, height: sample.height }
            }),
            { window: 1, timeoutMs: 300_000 },
          ),
        ),
      )
      await Promise.all(stations.map((s) => s.settled(300_000)))
      sweep()
      const total = STATIONS * FRAMES_PER_STATION
      const busy = stations.reduce((n, s) => n + s.tally().busy.length, 0)
      expect(stations.flatMap((s) => s.tally().rejected)).toEqual([])
      const delivered = total - busy
      expect(stationSeen.size).toBe(delivered)
      // every reading kiosk sees every result, however long the stalled one has not read
      await waitFor(() => (sweep(), kioskSeen.every((m) => m.size >= delivered)), { timeoutMs: 120_000, what: 'every kiosk to see every result' })
      for (const k of kiosks) expect(k.protocolErrors).toEqual([])
      for (const s of stations) {
        const records = await recordedResults(server.url, s.line, s.station)
        const ids = records.map((r) => r.frameId)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.sort()).toEqual(s.tally().result.sort())
      }
      const lags: number[] = []
      for (const m of kioskSeen) for (const [id, at] of m) lags.push(at - (stationSeen.get(id) ?? at))
      lags.sort((a, b) => a - b)
      const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]!
      const after = await rssMb(pid)
      console.log(`chaos-many: ${delivered} results (busy ${busy}) to ${KIOSKS} kiosks; fan-out lag after the station's own result p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (10 ms polling); RSS ${after.toFixed(1)} MB`)
      expect(lags.length).toBe(delivered * KIOSKS)
    } finally {
      clearInterval(watch)
    }
    // the server still answers while the stalled kiosk holds its buffer
    expect((await server.admin('/ready')).status).toBe(200)
  }, 600_000)
})
