import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { openSqliteStore } from '../storage/sqlite.ts'
import type { SqlStore } from '../storage/store.ts'
import { defaultScalingSettings } from './defaults.ts'
import { statusHistory, stepFor } from './status-history.ts'
import { whatIf } from './what-if.ts'

const MINUTE = 60_000
const DAY = 86_400_000
const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined }
const TO = Date.UTC(2025, 0, 8)
const FROM = TO - DAY

const settings = (patch: Partial<ScalingSettings> = {}): ScalingSettings => ({
  ...defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 8, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 }),
  predictive: { enabled: false, leadMinutes: 3, headroom: 1.1 },
  ...patch,
})

describe('what-if replay and status history on recorded load', () => {
  let dir: string
  let store: SqlStore

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'linesight-what-if-'))
    store = openSqliteStore({ dataDir: dir, log: quiet })
    await store.migrate()
    // a recorded day: quiet, then 40 frames/s on L1 from 08:00 to 16:00 (plus 2 on L2), with
    // 3 workers recorded and a queue that piled up at 08:00
    for (let m = FROM; m < TO; m += MINUTE) {
      const h = new Date(m).getUTCHours()
      const busy = h >= 8 && h < 16
      await store.loadHistory.add({ minute: m, line: 'L1', frames: busy ? 2400 : 0, skipped: busy ? 600 : 0, browserFrames: 0, queueDepthMax: busy && new Date(m).getUTCMinutes() < 3 && h === 8 ? 400 : 0, workers: 3, p95Ms: busy ? 180 : 0, source: 'p1' })
      await store.loadHistory.add({ minute: m, line: 'L2', frames: busy ? 120 : 0, skipped: 0, browserFrames: busy ? 60 : 0, queueDepthMax: 0, workers: 3, p95Ms: 0, source: 'p1' })
    }
  })

  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const deps = () => ({ history: store.loadHistory, policyOf: () => 'server-only', queueMaxLength: 1000 })

  it('replays the day under candidate settings beside what was recorded', async () => {
    const r = await whatIf(deps(), { settings: settings(), from: FROM, to: TO }, TO)
    expect(r.points).toHaveLength(1440)
    expect(r.recordedMinutes).toBe(1440)
    // server-bound demand: 40 + (2 - 1 browser) frames/s
    expect(r.points[9 * 60]!.demandFps).toBe(41)
    // 41 fps at 8 per worker: 6 workers once it settles
    expect(r.points[10 * 60]!.simulated.workers).toBe(6)
    expect(r.points[10 * 60]!.actual).toEqual({ workers: 3, queueDepthMax: 0, p95Ms: 180 })
    expect(r.actual.backlogMinutes).toBe(3)
    expect(r.actual.workerMinutes).toBe(3 * 1440)
  })

  it('shows a backlog when the candidate caps the workers below the load', async () => {
    const capped = await whatIf(deps(), { settings: settings({ maxWorkers: 3 }), from: FROM, to: TO }, TO)
    const enough = await whatIf(deps(), { settings: settings(), from: FROM, to: TO }, TO)
    expect(capped.simulated.backlogMinutes).toBeGreaterThan(enough.simulated.backlogMinutes)
    expect(capped.simulated.refusedFrames).toBeGreaterThan(0)
    expect(Math.max(...capped.points.map((p) => p.simulated.workers))).toBe(3)
  })

  it('lets the auto lines\' share go to browsers while workers start', async () => {
    const auto = await whatIf({ ...deps(), policyOf: (line: string) => (line === 'L1' ? 'auto' : 'server-only') }, { settings: settings(), from: FROM, to: TO }, TO)
    expect(auto.simulated.offloadMinutes).toBeGreaterThan(0)
    const off = await whatIf({ ...deps(), policyOf: () => 'auto' }, { settings: settings({ offload: { enabled: false } }), from: FROM, to: TO }, TO)
    expect(off.simulated.offloadMinutes).toBe(0)
  })

  it('refuses a range of more than two days', async () => {
    await expect(whatIf(deps(), { settings: settings(), from: TO - 3 * DAY, to: TO }, TO)).rejects.toMatchObject({ code: 'bad_range' })
  })

  it('buckets history so a range never has too many points', async () => {
    expect(stepFor(3_600_000)).toBe(MINUTE)
    expect(stepFor(DAY)).toBe(2 * MINUTE)
    expect(stepFor(7 * DAY)).toBe(15 * MINUTE)
    const h = await statusHistory(store.loadHistory, { from: FROM, to: TO })
    expect(h.stepMs).toBe(2 * MINUTE)
    expect(h.points).toHaveLength(720)
    expect(h.lines).toEqual(['L1', 'L2'])
    const nine = h.points[9 * 30]!
    expect(nine).toMatchObject({ minutes: 2, framesPerSec: 42, skippedPerSec: 10, browserPerSec: 1, workersMax: 3, p95MsMax: 180 })
    expect(nine.offloadShare).toBeCloseTo(1 / 42, 3)
    const one = await statusHistory(store.loadHistory, { from: FROM + 9 * 3_600_000, to: FROM + 10 * 3_600_000, line: 'L2' })
    expect(one.points).toHaveLength(60)
    expect(one.points[0]).toMatchObject({ framesPerSec: 2, browserPerSec: 1, offloadShare: 0.5 })
  })
})
