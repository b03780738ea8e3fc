import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { defaultScalingSettings } from './defaults.ts'
import { ScalingPolicy, forecastRecommendation, type Observation } from './policy.ts'

const base = (patch: Partial<ScalingSettings> = {}): ScalingSettings => ({
  ...defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 10, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 }),
  predictive: { enabled: false, leadMinutes: 2, headroom: 1 },
  ...patch,
})

/** A load of `fps` frames/s with a queue matching it, seen at `at` seconds. */
const obs = (at: number, current: number, o: Partial<Observation> & { fps?: number } = {}): Observation => ({
  at: at * 1000,
  current,
  ready: o.ready ?? current,
  queueDepth: o.queueDepth ?? 0,
  p95Ms: o.p95Ms ?? 0,
  lines: [{ line: 'L1', serverFps: o.fps ?? 0, browserFps: 0 }],
  offloadActive: o.offloadActive ?? false,
  forecastFps: o.forecastFps,
  forecastNowFps: o.forecastNowFps,
})

/** Runs a policy on a simulated clock, applying every decision; returns the counts over time. */
function run(policy: ScalingPolicy, start: number, steps: { at: number; fps?: number; queueDepth?: number; p95Ms?: number; forecastFps?: number }[]): number[] {
  let current = start
  return steps.map((s) => {
    const d = policy.decide(obs(s.at, current, s))
    if (d.desired !== current) {
      policy.scaled(current, d.desired, s.at * 1000)
      current = d.desired
    }
    return current
  })
}

const every15s = (from: number, to: number, load: (t: number) => { fps?: number; queueDepth?: number; p95Ms?: number; forecastFps?: number }) => {
  const out: { at: number; fps?: number; queueDepth?: number; p95Ms?: number; forecastFps?: number }[] = []
  for (let t = from; t < to; t += 15) out.push({ at: t, ...load(t) })
  return out
}

describe('scaling policy', () => {
  it('scales up at once under the HPA default behavior, doubling or adding 4 per 15 s', () => {
    const p = new ScalingPolicy(base({ maxWorkers: 20 }))
    // 160 frames/s needs 20 workers at 10 fps x 0.8
    const counts = run(p, 1, every15s(0, 90, () => ({ fps: 160 })))
    expect(counts).toEqual([5, 10, 20, 20, 20, 20])
  })

  it('waits out a scale-up window: a short spike does not add workers', () => {
    const p = new ScalingPolicy(base({ scaleUp: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } }))
    // a 30-second spike inside steady load that needs 2 workers
    const spike = run(p, 2, every15s(0, 180, (t) => ({ fps: t >= 60 && t < 90 ? 80 : 16 })))
    expect(Math.max(...spike)).toBe(2)
    // sustained for the whole window, it scales up
    const q = new ScalingPolicy(p.settings)
    const sustained = run(q, 2, every15s(0, 120, () => ({ fps: 80 })))
    expect(sustained.slice(0, 4)).toEqual([2, 2, 2, 2])
    expect(sustained[4]).toBe(6)
  })

  it('honours a Pods rate: at most +2 workers per minute', () => {
    const p = new ScalingPolicy(base({ scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } }))
    const counts = run(p, 1, every15s(0, 150, () => ({ queueDepth: 1000 })))
    // t = 0..45: one period; t = 60..105 the next; t = 120..135 the third
    expect(counts).toEqual([3, 3, 3, 3, 5, 5, 5, 5, 7, 7])
  })

  it('picks the policy allowing the most change with Max and the least with Min', () => {
    const policies = [
      { type: 'Pods' as const, value: 1, periodSeconds: 15 },
      { type: 'Percent' as const, value: 100, periodSeconds: 15 },
    ]
    const max = run(new ScalingPolicy(base({ scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies } })), 2, every15s(0, 30, () => ({ queueDepth: 1000 })))
    const min = run(new ScalingPolicy(base({ scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies } })), 2, every15s(0, 30, () => ({ queueDepth: 1000 })))
    expect(max).toEqual([4, 8])
    expect(min).toEqual([3, 4])
  })

  it('scales down only after the whole scale-down window agrees, at the Percent rate', () => {
    const p = new ScalingPolicy(base({ scaleDown: { stabilizationWindowSeconds: 120, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } }))
    const counts = run(p, 8, every15s(0, 300, () => ({ fps: 0 })))
    const firstDown = counts.findIndex((c) => c < 8)
    // the seeded recommendation (8 at t = 0) leaves the window after 120 s
    expect(firstDown * 15).toBe(120)
    expect(counts[firstDown]).toBe(4)
    // the next halving waits for the 60 s period to pass
    expect(counts[firstDown + 3]).toBe(4)
    expect(counts[firstDown + 4]).toBe(2)
  })

  it('never scales down when scale-down is Disabled', () => {
    const p = new ScalingPolicy(base({ scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled', policies: [] } }))
    expect(run(p, 6, every15s(0, 600, () => ({ fps: 0 }))).every((c) => c === 6)).toBe(true)
  })

  it('stays within min and max, and moves a count outside them to the bound', () => {
    const p = new ScalingPolicy(base({ minWorkers: 2, maxWorkers: 5, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } }))
    expect(Math.max(...run(p, 2, every15s(0, 120, () => ({ queueDepth: 10_000 }))))).toBe(5)
    expect(Math.min(...run(p, 5, every15s(200, 320, () => ({ fps: 0 }))))).toBe(2)
    expect(p.decide(obs(400, 9, { fps: 0 }))).toMatchObject({ desired: 5, reason: 'TooManyReplicas' })
    expect(p.decide(obs(415, 1, { fps: 100 }))).toMatchObject({ desired: 2, reason: 'TooFewReplicas' })
  })

  it('does not flap under a load that swings every 30 seconds', () => {
    const p = new ScalingPolicy(base())
    const counts = run(p, 1, every15s(0, 1200, (t) => ({ fps: Math.floor(t / 30) % 2 ? 10 : 60 })))
    const changes = counts.filter((c, i) => i > 0 && c !== counts[i - 1]).length
    expect(Math.max(...counts)).toBe(8)
    // up once (1 -> 5 -> 8 within the first half minute), never down while the swing goes on
    expect(changes).toBeLessThanOrEqual(2)
    expect(counts.slice(4).every((c) => c === 8)).toBe(true)
  })

  it('ignores a metric within the tolerance of its target', () => {
    const p = new ScalingPolicy(base())
    // 4 workers x 8 fps = 32: 34 fps is within 10 %
    expect(p.decide(obs(0, 4, { fps: 34 })).recommendations.throughput).toBe(4)
    expect(p.decide(obs(15, 4, { fps: 40 })).recommendations.throughput).toBe(5)
  })

  it('grows on a p95 above target, and never shrinks on a fast one', () => {
    const p = new ScalingPolicy(base())
    expect(p.decide(obs(0, 3, { p95Ms: 3000 })).recommendations.latency).toBe(9)
    expect(p.decide(obs(15, 3, { p95Ms: 20 })).recommendations.latency).toBe(0)
  })

  it('pre-warms for a forecast burst, with headroom, before any load arrives', () => {
    const p = new ScalingPolicy(base({ predictive: { enabled: true, leadMinutes: 2, headroom: 1.2 } }))
    // 40 frames/s x 1.2 / 8 per worker = 6
    const d = p.decide(obs(0, 1, { fps: 0, forecastFps: 40 }))
    expect(d).toMatchObject({ desired: 5, recommendations: { forecast: 6 } })
    expect(run(p, 5, [{ at: 15, forecastFps: 40 }])).toEqual([6])
  })

  it('never scales in on a forecast alone: a forecast dropping to zero keeps what the load needs', () => {
    const p = new ScalingPolicy(base({ predictive: { enabled: true, leadMinutes: 2, headroom: 1 } }))
    // the load needs 4 workers (32 fps); the forecast first says 80 fps, then nothing at all
    const counts = run(p, 4, every15s(0, 1200, (t) => ({ fps: 32, forecastFps: t < 300 ? 80 : 0 })))
    expect(Math.min(...counts.slice(20))).toBe(4)
    expect(counts[1]).toBe(10)
  })

  it('scales in only when the observed load alone asks for fewer (any load, any forecast)', () => {
    const step = fc.record({ fps: fc.integer({ min: 0, max: 200 }), queueDepth: fc.integer({ min: 0, max: 400 }), p95Ms: fc.integer({ min: 0, max: 5000 }), forecastFps: fc.integer({ min: 0, max: 200 }) })
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 600 }), (steps, downWindow) => {
        const p = new ScalingPolicy(base({ predictive: { enabled: true, leadMinutes: 2, headroom: 1 }, scaleDown: { stabilizationWindowSeconds: downWindow, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } }))
        let current = 1
        steps.forEach((s, i) => {
          const d = p.decide(obs(i * 15, current, s))
          if (d.desired < current) {
            const observed = Math.max(d.recommendations.queue, d.recommendations.throughput, d.recommendations.latency)
            expect(observed).toBeLessThan(current)
          }
          if (d.desired !== current) p.scaled(current, d.desired, i * 15_000)
          current = d.desired
        })
      }),
      { numRuns: 300 },
    )
  })

  it('offloads to browsers while workers start and releases when they serve', () => {
    const p = new ScalingPolicy(base())
    // 60 fps needs 8 workers; from 2 the HPA rate allows 6 now
    const starting = p.decide(obs(0, 2, { fps: 60, ready: 2 }))
    expect(starting).toMatchObject({ desired: 6, offload: true })
    p.scaled(2, 6, 0)
    expect(p.decide(obs(15, 6, { fps: 30, ready: 2, offloadActive: true })).offload).toBe(true)
    expect(p.decide(obs(30, 6, { fps: 30, ready: 6, offloadActive: true })).offload).toBe(false)
  })

  it('counts offloaded browser frames as demand while offload is on, and keeps offloading at max', () => {
    const p = new ScalingPolicy(base({ maxWorkers: 3 }))
    const o = obs(0, 3, { ready: 3 })
    const lines = [{ line: 'L1', serverFps: 10, browserFps: 30 }]
    expect(p.decide({ ...o, lines, offloadActive: false }).demandFps).toBe(10)
    const on = p.decide({ ...o, at: 15_000, lines, offloadActive: true })
    expect(on.demandFps).toBe(40)
    // 40 fps needs 5 workers; only 3 are allowed, so the browsers keep helping
    expect(on).toMatchObject({ desired: 3, offload: true })
  })

  it('does not offload when offload is off', () => {
    const p = new ScalingPolicy(base({ offload: { enabled: false } }))
    expect(p.decide(obs(0, 1, { fps: 60, ready: 1 })).offload).toBe(false)
  })

  describe('pre-scales only where the forecast ramp outruns reactive scaling', () => {
    const predictive = base({ predictive: { enabled: true, leadMinutes: 3, headroom: 1.2 } })

    it('asks for nothing on a smooth ramp the reactive workers carry while new ones start', () => {
      // 40 fps now, 3 % more at the peak of the lead: 5 reactive workers serve 50 at full capacity
      const d = new ScalingPolicy(predictive).decide(obs(0, 5, { fps: 40, forecastFps: 41.2, forecastNowFps: 40 }))
      expect(d.recommendations.forecast).toBe(0)
      expect(d.desired).toBe(5)
    })

    it('pre-scales, with headroom, for a shift-start burst the reactive workers cannot carry', () => {
      // 10 fps now (wind-down), the forecast jumps to 36: projected 10 + 26 = 36 > 2 workers' 20
      const d = new ScalingPolicy(predictive).decide(obs(0, 2, { fps: 10, forecastFps: 36, forecastNowFps: 10 }))
      // 36 x 1.2 / 8 per worker = 5.4 -> 6
      expect(d.recommendations.forecast).toBe(6)
      expect(d.desired).toBe(6)
    })

    it('adds only the forecast rise to a day quieter than the forecast expects', () => {
      // the forecast expects 60 now and 63 at the peak; the day runs at 20 (a third): 20 + 3 fits 3 workers
      expect(forecastRecommendation({ forecastFps: 63, forecastNowFps: 60 }, predictive, 20, 3)).toBe(0)
      // the old rule (the peak's level) would have asked for ceil(63 x 1.2 / 8) = 10
      expect(forecastRecommendation({ forecastFps: 63 }, predictive, 20, 3)).toBe(10)
    })

    it('keeps pre-scaled workers while the burst is still ahead (its own workers do not switch it off)', () => {
      const p = new ScalingPolicy(predictive)
      const counts = run(p, 1, every15s(0, 60, () => ({ fps: 0, forecastFps: 36 })))
      expect(counts.at(-1)).toBe(6)
    })

    it('never pre-scales with predictive off, whatever the forecast', () => {
      expect(forecastRecommendation({ forecastFps: 500, forecastNowFps: 0 }, base(), 0, 1)).toBe(0)
    })
  })
})
