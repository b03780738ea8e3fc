import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { WhatIfRequestSchema } from '../../shared/domain/scaling.ts'
import { httpErrorOf } from '../api/statuses.ts'
import { defaultScalingSettings } from './defaults.ts'
import { whatIf } from './what-if.ts'

const settings = defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 12, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 })
const csv = readFileSync(new URL('../../test/fixtures/scaling/seasonal-21d-30min.csv', import.meta.url), 'utf8')
// the replay must never read the recorded history when a trace is given
const deps = { history: { range: () => Promise.reject(new Error('read the recorded history')) }, policyOf: () => 'server', queueMaxLength: 10_000 }

describe('what-if replay of a loaded trace', () => {
  it('replays the last day of the file with its load, and nothing as "what happened"', async () => {
    const req = WhatIfRequestSchema.parse({ settings, trace: { csv, unit: 'per-step' } })
    const r = await whatIf(deps, req)
    expect(r.points.length).toBe(1440)
    expect(r.to).toBe(Date.UTC(2025, 0, 27))
    expect(r.recordedMinutes).toBe(0)
    expect(r.points.every((p) => p.actual === null)).toBe(true)
    // the file's last day (a Sunday at 70 %) peaks near 0.7 x 60 frames/s
    const peak = Math.max(...r.points.map((p) => p.demandFps))
    expect(peak).toBeGreaterThan(30)
    expect(peak).toBeLessThan(50)
    expect(r.simulated.workerMinutes).toBeGreaterThan(1440)
  })

  it('reads the same file as frames per second when told its values are rates', async () => {
    const perStep = await whatIf(deps, WhatIfRequestSchema.parse({ settings, trace: { csv, unit: 'per-step' } }))
    const perSecond = await whatIf(deps, WhatIfRequestSchema.parse({ settings: { ...settings, maxWorkers: 256 }, trace: { csv, unit: 'per-second' } }))
    // a step is 30 minutes: the same numbers read per second are 1800 times the load
    // (demandFps is rounded to 0.1, hence the 0.5 % margin)
    expect(perSecond.points[600]!.demandFps / perStep.points[600]!.demandFps).toBeGreaterThan(1800 * 0.995)
    expect(perSecond.points[600]!.demandFps / perStep.points[600]!.demandFps).toBeLessThan(1800 * 1.005)
  })

  it('answers a malformed file with 400 bad_trace naming the line', async () => {
    const bad = WhatIfRequestSchema.parse({ settings, trace: { csv: 'timestamp,value\n2025-01-06T00:00:00Z,5\n2025-01-06T00:30:00Z,lots\n', unit: 'per-step' } })
    const err = await whatIf(deps, bad).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'bad_trace' })
    // the one status table at the HTTP edge answers it with 400
    expect(httpErrorOf(err)?.status).toBe(400)
    expect((err as Error).message).toMatch(/line 3/)
  })

  it('refuses a trace above 2 MB at the schema', () => {
    expect(WhatIfRequestSchema.safeParse({ settings, trace: { csv: 'x'.repeat(2_000_001), unit: 'per-step' } }).success).toBe(false)
  })
})
