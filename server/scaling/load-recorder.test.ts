import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMetrics, type Metrics } from '../metrics/metrics.ts'
import { LoadTracker } from '../metrics/load.ts'
import { openSqliteStore } from '../storage/sqlite.ts'
import type { SqlStore } from '../storage/store.ts'
import { LoadRecorder, quantileMs } from './load-recorder.ts'

const quiet = { warn: () => undefined, info: () => undefined }
const MINUTE = 60_000
const T0 = Date.UTC(2025, 0, 6, 8, 0)

describe('load history recorder', () => {
  let dir: string
  let store: SqlStore
  let metrics: Metrics
  let load: LoadTracker

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'linesight-load-recorder-'))
    store = openSqliteStore({ dataDir: dir, log: { ...quiet, error: () => undefined } })
    await store.migrate()
    metrics = createMetrics({ defaultMetrics: false })
    load = new LoadTracker()
  })

  afterEach(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const recorder = () => new LoadRecorder({ metrics, load, history: store.loadHistory, log: quiet, flushMs: MINUTE, retentionDays: 0, source: 'test-1' })

  it('writes each line\'s frames, skipped and browser frames of the minute from the counters', async () => {
    metrics.framesReceived.inc({ line: 'L1', source: 'ws' }, 100) // before the baseline: not this process's minute
    const r = recorder()
    await r.begin(T0)
    metrics.framesReceived.inc({ line: 'L1', source: 'ws' }, 40)
    metrics.framesReceived.inc({ line: 'L1', source: 'http' }, 5)
    metrics.framesReceived.inc({ line: 'L1', source: 'browser' }, 12)
    metrics.results.inc({ line: 'L1', verdict: 'pass', where: 'browser' }, 12)
    metrics.results.inc({ line: 'L1', verdict: 'fail', where: 'server' }, 45)
    metrics.framesSkipped.inc({ line: 'L1', reason: 'unchanged' }, 30)
    metrics.framesReceived.inc({ line: 'L2', source: 'ws' }, 7)
    metrics.queueDepth.set({ queue: 'live' }, 17)
    await r.sample()
    metrics.queueDepth.set({ queue: 'live' }, 3)
    metrics.workers.set(2)
    await r.flush(T0 + MINUTE)
    const rows = await store.loadHistory.range(T0, T0 + MINUTE)
    expect(rows).toEqual([
      { minute: T0, line: 'L1', frames: 57, skipped: 30, browserFrames: 12, queueDepthMax: 17, workers: 2, p95Ms: 0 },
      { minute: T0, line: 'L2', frames: 7, skipped: 0, browserFrames: 0, queueDepthMax: 17, workers: 2, p95Ms: 0 },
    ])
  })

  it('records a quiet minute as zeros for every known line, and counts each frame once', async () => {
    const r = recorder()
    await r.begin(T0)
    metrics.framesReceived.inc({ line: 'L1', source: 'ws' }, 10)
    await r.flush(T0 + MINUTE)
    await r.flush(T0 + 2 * MINUTE)
    const rows = await store.loadHistory.range(T0, T0 + 2 * MINUTE, 'L1')
    expect(rows.map((x) => [x.minute, x.frames])).toEqual([
      [T0, 10],
      [T0 + MINUTE, 0],
    ])
  })

  it('takes the minute\'s p95 from the latency histogram, not from before the minute', async () => {
    for (let i = 0; i < 100; i++) metrics.e2eSeconds.observe({ source: 'ws' }, 5) // an old slow stretch
    const r = recorder()
    await r.begin(T0)
    for (let i = 0; i < 100; i++) metrics.e2eSeconds.observe({ source: 'ws' }, 0.03)
    metrics.framesReceived.inc({ line: 'L1', source: 'ws' }, 100)
    await r.flush(T0 + MINUTE)
    const [row] = await store.loadHistory.range(T0, T0 + MINUTE)
    // all 100 in the 20-50 ms bucket: interpolated at 95 % of it
    expect(row!.p95Ms).toBeCloseTo(48.5, 1)
  })

  it('falls back to the load tracker\'s p95 when the histogram saw nothing', async () => {
    const r = recorder()
    await r.begin(T0)
    for (let i = 0; i < 20; i++) load.recordLatency(i < 19 ? 100 : 900, T0 + 30_000)
    metrics.framesReceived.inc({ line: 'L1', source: 'http' }, 20)
    await r.flush(T0 + MINUTE)
    const [row] = await store.loadHistory.range(T0, T0 + MINUTE)
    expect(row!.p95Ms).toBe(900)
  })

  it('interpolates quantiles like histogram_quantile', () => {
    const b = new Map([
      [0.01, 10],
      [0.1, 90],
      [1, 100],
      [Infinity, 100],
    ])
    expect(quantileMs(b, 0.5)).toBeCloseTo(10 + 90 * (40 / 80), 6)
    expect(quantileMs(new Map([[Infinity, 0]]), 0.95)).toBeUndefined()
    expect(quantileMs(new Map([[0.5, 0], [Infinity, 4]]), 0.95)).toBe(500)
  })
})
