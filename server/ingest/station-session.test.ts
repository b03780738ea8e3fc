/**
 * Result recovery in a station session: a result recorded in the store but never delivered by
 * the result bus (as when a gateway's results connection was down) still reaches the station,
 * and a frame with no record at all gives its credit back. Real queue, hub and SQLite store; the
 * bus message is "lost" by recording straight into the store.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { parseServerMessage, type ServerMessage } from '../../shared/protocol/codec.ts'
import { encodeEnvelope } from '../../shared/protocol/envelope.ts'
import { ANONYMOUS } from '../auth/principal.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { EmbeddedQueue } from '../queue/embedded.ts'
import { LocalResultBus } from '../results/bus.ts'
import { ResultHub } from '../results/hub.ts'
import { Recorder } from '../results/recorder.ts'
import { FALLBACK_PREFILTER, LineSettingsService } from '../lines/line-settings.ts'
import { openSqliteStore } from '../storage/sqlite.ts'
import type { SqlStore } from '../storage/store.ts'
import { FrameIngest } from './ingest.ts'
import { StationSession } from './station-session.ts'

const AFTER_MS = 1000
const GIVE_UP_MS = 5000
const quiet = { warn: () => undefined, error: () => undefined }
const ref = { name: 'detector', version: '1', sha256: 'a'.repeat(64), url: '/models/detector/x.onnx', manifestUrl: '/models/detector/manifest.json' }

function result(frameId: string): InspectionResult {
  return { frameId, line: 'L1', station: 'S1', capturedAt: 1, model: { name: 'detector', version: '1' }, inferredAt: 'server', ep: 'cpu', detections: [], verdict: 'pass', timings: {} }
}

describe('result recovery in a station session', () => {
  let dir: string
  let store: SqlStore
  let queue: EmbeddedQueue
  let session: StationSession
  let recorder: Recorder
  let sent: ServerMessage[]

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'linesight-session-'))
    store = openSqliteStore({ dataDir: dir, log: quiet })
    await store.migrate()
    const metrics = createMetrics({ defaultMetrics: false })
    // no consumer: frames are queued and wait, as they would for a worker elsewhere
    queue = new EmbeddedQueue({ maxLength: { live: 100, batch: 100 }, deliveryLimit: 3, liveTtlMs: 60_000, deadLetterMax: 10 })
    const hub = new ResultHub({ kioskMaxBufferedBytes: 1 << 20 })
    const bus = new LocalResultBus()
    bus.subscribe((r) => hub.dispatch(r))
    const settings = new LineSettingsService({ model: 'detector', policy: 'auto', prefilter: { ...FALLBACK_PREFILTER, enabled: true }, auditFraction: 0, shadowFraction: 0, scoreThresholds: {}, captureFps: 5 })
    recorder = new Recorder({ store, bus, metrics })
    sent = []
    session = new StationSession(
      {
        ingest: new FrameIngest({ queue, hub, metrics, liveFrameTtlMs: 60_000 }),
        hub,
        recorder,
        settings,
        metrics,
        credit: 4,
        maxFrameBytes: 1 << 20,
        maxPixels: 1e7,
        models: () => ({ detector: ref }),
        uplink: () => ({ width: 320, height: 320 }),
        load: () => ({ at: 0, queueDepth: 0, inFlight: 0, workers: 1, p95Ms: 0, estimatedWaitMs: 0, serverInferMs: 0, policy: 'auto', paused: false }),
        authenticate: async () => ANONYMOUS,
        log: quiet,
        recovery: { afterMs: AFTER_MS, giveUpMs: GIVE_UP_MS, lookup: (id) => store.get(id) },
      },
      {
        send: (text) => {
          const parsed = parseServerMessage(text)
          if (!parsed.ok) throw new Error(`the session sent an invalid message: ${parsed.error.message}`)
          sent.push(parsed.message)
        },
        bufferedAmount: () => 0,
      },
      ANONYMOUS,
    )
    await session.onText(JSON.stringify({ type: 'hello', line: 'L1', station: 'S1' }))
  })

  afterEach(async () => {
    session.close()
    await queue.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const sendFrame = (frameId: string) =>
    session.onBinary(encodeEnvelope({ kind: 'frame', frameId, line: 'L1', station: 'S1', capturedAt: 1, mime: 'image/jpeg', width: 4, height: 4, audit: false, shadow: false, payload: new Uint8Array([1, 2, 3]) }))
  const of = (frameId: string) => sent.filter((m) => ('frameId' in m && m.frameId === frameId) || (m.type === 'result' && m.result.frameId === frameId))

  it('sends a station the result recorded while the bus message never came', async () => {
    await sendFrame('f1')
    expect(of('f1').map((m) => m.type)).toEqual(['ack'])
    await store.record(result('f1'))
    // not overdue yet: nothing is looked up
    expect(await session.recoverOverdue(Date.now())).toBe(0)
    expect(await session.recoverOverdue(Date.now() + AFTER_MS)).toBe(1)
    const [, delivered] = of('f1')
    expect(delivered).toMatchObject({ type: 'result', result: { frameId: 'f1', verdict: 'pass' } })
    expect(session.inFlight).toBe(0)
    // found once, sent once
    expect(await session.recoverOverdue(Date.now() + 10 * AFTER_MS)).toBe(0)
    expect(of('f1')).toHaveLength(2)
  })

  it('keeps waiting for a frame without a record, then gives its credit back as lost', async () => {
    await sendFrame('f2')
    expect(await session.recoverOverdue(Date.now() + AFTER_MS)).toBe(0)
    expect(session.inFlight).toBe(1)
    expect(await session.recoverOverdue(Date.now() + GIVE_UP_MS)).toBe(0)
    expect(session.inFlight).toBe(0)
    expect(of('f2').at(-1)).toMatchObject({ type: 'ack', status: 'rejected', error: { code: 'lost' } })
  })

  it('leaves a frame alone whose result came the normal way', async () => {
    await sendFrame('f3')
    // what a worker does: record, then publish on the bus, which delivers it at once
    await recorder.record(result('f3'))
    expect(session.inFlight).toBe(0)
    expect(await session.recoverOverdue(Date.now() + GIVE_UP_MS)).toBe(0)
    expect(of('f3').map((m) => m.type)).toEqual(['ack', 'result'])
  })
})
