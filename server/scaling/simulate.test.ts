import { describe, expect, it } from 'vitest'
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { defaultScalingSettings } from './defaults.ts'
import { simulate, type SimOptions } from './simulate.ts'

const settings = (patch: Partial<ScalingSettings> = {}): ScalingSettings => ({
  ...defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 10, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 }),
  predictive: { enabled: false, leadMinutes: 3, headroom: 1.1 },
  ...patch,
})

/** `minutes` of `fps` frames/s after `idle` quiet minutes. */
function step(idle: number, minutes: number, fps: number): Float64Array {
  const d = new Float64Array(idle + minutes)
  d.fill(fps * 60, idle)
  return d
}

const opts = (demand: Float64Array, patch: Partial<SimOptions> = {}): SimOptions => ({
  demand,
  start: Date.UTC(2025, 0, 6),
  settings: settings(),
  startSeconds: [60, 60],
  seed: 1,
  backlogThreshold: 20,
  ...patch,
})

describe('simulation', () => {
  it('serves a load within capacity with no backlog and the workers it needs', () => {
    const r = simulate(opts(step(0, 30, 6), { initialWorkers: 1 }))
    expect(r.backlogMinutes).toBe(0)
    expect(r.minutes.workers[29]).toBe(1)
  })

  it('builds a backlog while new workers start, then catches up', () => {
    const r = simulate(opts(step(10, 30, 40)))
    expect(r.backlogMinutes).toBeGreaterThan(0)
    // 40 frames/s at 8 per worker: 5 workers
    expect(r.minutes.workers[39]).toBe(5)
    expect(r.minutes.queueMax[39]).toBeLessThan(20)
  })

  it('avoids that backlog when the forecast pre-warms the workers', () => {
    const demand = step(10, 30, 40)
    const forecastFps = (slot: number) => (slot >= 10 - 3 ? 40 : 0)
    const reactive = simulate(opts(demand, { forecastFps }))
    const predictive = simulate(opts(demand, { forecastFps, settings: settings({ predictive: { enabled: true, leadMinutes: 3, headroom: 1.1 } }) }))
    expect(predictive.backlogMinutes).toBe(0)
    expect(reactive.backlogMinutes).toBeGreaterThan(0)
    // the workers start before the load, then the load alone holds them: no headroom kept on
    expect(predictive.minutes.workers[8]).toBeGreaterThan(1)
    expect(reactive.minutes.workers[8]).toBe(1)
    expect(predictive.minutes.workers[39]).toBe(5)
  })

  it('loses no frame: everything that arrived was served, refused, offloaded or is still queued', () => {
    const demand = step(5, 20, 90)
    const r = simulate(opts(demand, { queueMaxLength: 500, offloadShare: 0.5, settings: settings({ maxWorkers: 4 }) }))
    const arrived = demand.reduce((a, b) => a + b, 0)
    expect(r.refusedFrames).toBeGreaterThan(0)
    expect(r.offloadedFrames).toBeGreaterThan(0)
    expect(r.servedFrames + r.refusedFrames + r.offloadedFrames + r.queuedAtEnd).toBeCloseTo(arrived, 6)
  })

  it('meets the same start delays in two runs with the same seed', () => {
    const demand = step(3, 20, 60)
    const a = simulate(opts(demand, { startSeconds: [30, 90], seed: 9 }))
    const b = simulate(opts(demand, { startSeconds: [30, 90], seed: 9 }))
    const c = simulate(opts(demand, { startSeconds: [30, 90], seed: 10 }))
    expect(Array.from(a.minutes.ready)).toEqual(Array.from(b.minutes.ready))
    expect(Array.from(a.minutes.ready)).not.toEqual(Array.from(c.minutes.ready))
  })
})
