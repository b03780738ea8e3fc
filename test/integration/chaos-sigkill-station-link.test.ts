/**
 * The all-in-one process killed with SIGKILL while the browser station's own uplink
 * (client/uplink/station-link.ts, run here in Node over `ws`) has frames in flight (issue 19). The
 * link streams sample frames as fast as its credit allows into one process with CPU inference, so
 * accepted frames wait in the embedded queue; the test kills the process (no shutdown, no drain)
 * while some are accepted and unanswered, starts a new one on the same data folder, and the link
 * reconnects by itself and sends the frames it had in flight again, with the same ids, before new
 * camera frames (the station's outbox for server frames, client/uplink/credit.ts).
 *
 * Asserts: every frame the link saw `accepted` has exactly one record; every frame it sent and was
 * not told `busy` or `rejected` has exactly one record and exactly one result handed to the
 * station; none lost, none an error record.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { emptyCounts, type UplinkCounts } from '../../client/uplink/credit.ts'
import type { SocketLike } from '../../client/uplink/socket.ts'
import { StationLink } from '../../client/uplink/station-link.ts'
import { resultsOfLine } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import { authHeaders, FAULT_TEST_ENV, type RunningServer, startServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const LINE = 'L-sigkill-link'
const STATION = 'S-browser'
const FRAMES = 40
const samples = loadSamples()


describe('the browser station uplink across a SIGKILL of the all-in-one process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'linesight-sigkill-link-'))
  let server: RunningServer | undefined
  let link: StationLink | undefined
  let camera: Promise<void> | undefined
  let stopped = false
  afterAll(async () => {
    stopped = true
    await camera
    link?.stop()
    await server?.kill().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('sends the frames in flight again after the restart: one record and one result for each', { timeout: 600_000 }, async () => {
    server = await startServer({ dataDir, env: FAULT_TEST_ENV })
    const sent: string[] = []
    const accepted = new Set<string>()
    const refused = new Set<string>()
    const results = new Map<string, number>()
    let counts: UplinkCounts = emptyCounts()
    let inFlight = 0
    const l = new StationLink({
      line: LINE,
      station: STATION,
      url: () => `${server!.url.replace(/^http/, 'ws')}/ws/station`,
      // a frame waits behind the replayed backlog on one CPU thread: not lost for being slow
      answerTimeoutMs: 300_000,
      onEvent: (e) => {
        if (e.type === 'ack' && e.ack.status === 'accepted') accepted.add(e.ack.frameId)
        else if (e.type === 'ack' && (e.ack.status === 'busy' || e.ack.status === 'rejected')) refused.add(e.ack.frameId)
        else if (e.type === 'result') results.set(e.result.frameId, (results.get(e.result.frameId) ?? 0) + 1)
        else if (e.type === 'counts') {
          counts = e.counts
          inFlight = e.inFlight
        }
      },
      socket: { create: (url) => new WebSocket(url, { headers: authHeaders(url) }) as unknown as SocketLike, backoff: { baseMs: 100, maxMs: 1_000 } },
    })
    link = l
    l.start()
    await waitFor(() => l.online, { timeoutMs: 30_000, what: 'the welcome' })

    // the camera: a frame every 10 ms, sent when the credit has room (the link drops the others)
    let offered = 0
    camera = (async () => {
      while (!stopped && sent.length < FRAMES) {
        const frameId = `${STATION}-f${offered++}`
        const s = samples[offered % samples.length]!
        const meta = { capturedAt: Date.now(), width: s.width, height: s.height, timings: {} }
        if (l.reserve(frameId, meta) && l.send({ frameId, ...meta, mime: 'image/jpeg', bytes: s.bytes })) sent.push(frameId)
        await new Promise((r) => setTimeout(r, 10))
      }
    })()

    const waiting = () => [...accepted].filter((id) => !results.has(id)).length
    // mid-stream: past the first window, with accepted frames waiting in the queue
    await waitFor(() => sent.length > 12 && waiting() >= 4, { timeoutMs: 180_000, intervalMs: 5, what: 'accepted frames waiting for their result' })
    const waitingAtKill = waiting()
    await server.kill()
    await waitFor(() => l.status.state === 'offline', { timeoutMs: 30_000, what: 'the link to see the connection drop' })
    const heldAtKill = inFlight
    console.info(`[chaos-sigkill-link] killed with ${waitingAtKill} accepted frames unanswered, ${heldAtKill} held to send again, ${sent.length} sent`)
    expect(heldAtKill).toBeGreaterThanOrEqual(waitingAtKill)

    server = await startServer({ dataDir, env: FAULT_TEST_ENV })
    const replayLine = server.logs.find((x) => x.msg === 'replaying frames accepted before the last stop') as { frames?: number } | undefined
    expect(replayLine?.frames ?? 0).toBeGreaterThan(0)
    await waitFor(() => l.online, { timeoutMs: 60_000, what: 'the link to reconnect' })
    await camera
    await waitFor(() => inFlight === 0 && sent.every((id) => results.has(id) || refused.has(id)), {
      timeoutMs: 300_000,
      intervalMs: 100,
      what: `an answer to each of the ${FRAMES} frames sent`,
    })

    expect(counts.resent).toBeGreaterThanOrEqual(heldAtKill)
    expect(counts.lost).toBe(0)
    const due = sent.filter((id) => !refused.has(id))
    const records = await waitFor(async () => {
      const r = await resultsOfLine(server!.url, LINE)
      const have = new Set(r.map((x) => x.frameId))
      return due.every((id) => have.has(id)) ? r : undefined
    }, { timeoutMs: 60_000, intervalMs: 500, what: `a record for each of the ${due.length} frames not refused` })
    const count = new Map<string, number>()
    for (const r of records) count.set(r.frameId, (count.get(r.frameId) ?? 0) + 1)
    expect([...accepted].filter((id) => count.get(id) !== 1)).toEqual([])
    expect(due.filter((id) => count.get(id) !== 1)).toEqual([])
    expect(due.filter((id) => results.get(id) !== 1)).toEqual([])
    expect(records.filter((r) => r.error).map((r) => `${r.frameId}:${r.error!.code}`)).toEqual([])
    console.info(`[chaos-sigkill-link] ${sent.length} sent, ${counts.resent} sent again, ${refused.size} refused, ${records.length} records`)
  })
})
