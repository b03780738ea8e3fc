/**
 * The issue-19 targets, on the same runs `npm run scaling:backtest` makes (seed 1): a smooth
 * daily-seasonal load (synthetic, seasonal-load.ts), a real public daily-seasonal series (the
 * Seattle fixture) and the steep-shift synthetic plant.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { defaultScalingSettings } from './defaults.ts'
import { learnHeadroom, runBacktest, type BacktestOptions } from './backtest-run.ts'
import { seasonalLoad } from './seasonal-load.ts'
import type { MinuteSeries } from './series.ts'
import { syntheticPlant } from './synthetic-plant.ts'
import { traceFromCsv } from './trace.ts'

const settings = defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 12, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 })
const options = (series: MinuteSeries, patch: Partial<BacktestOptions> = {}): BacktestOptions => ({
  series,
  settings: { ...settings, predictive: { ...settings.predictive, leadMinutes: 3 } },
  evalDays: 7,
  startSeconds: [30, 90],
  seed: 1,
  backlogThreshold: 20,
  mapeMinFps: 1,
  ...patch,
})

describe('predictive scaling that pays for itself', () => {
  it("spends no more than 5 % extra worker-minutes on a smooth seasonal load, with no more backlog", { timeout: 180_000 }, () => {
    for (const eventDay of [undefined, 31]) {
      const r = runBacktest(options(seasonalLoad({ seed: 1, days: 35, ...(eventDay !== undefined ? { eventDay } : {}) })))
      expect(r.backlogMinutes.predictive).toBeLessThanOrEqual(r.backlogMinutes.reactive)
      expect(r.workerMinutes.predictive).toBeLessThanOrEqual(r.workerMinutes.reactive * 1.05)
      expect(r.mape).toBeLessThan(0.15)
    }
  })

  it('reads the committed trace fixture to the same verdict', () => {
    const trace = traceFromCsv(readFileSync(new URL('../../test/fixtures/scaling/seasonal-21d-30min.csv', import.meta.url), 'utf8'), 'per-step')
    const r = runBacktest(options(trace.series))
    expect(r.mape).toBeLessThan(0.15)
    expect(r.backlogMinutes.predictive).toBeLessThanOrEqual(r.backlogMinutes.reactive)
    expect(r.workerMinutes.predictive).toBeLessThanOrEqual(r.workerMinutes.reactive * 1.05)
  })

  it('holds on a real public series with smooth daily ramps (NOAA hourly normals, docs/scaling.md)', () => {
    const trace = traceFromCsv(readFileSync(new URL('../../test/fixtures/scaling/seattle-normals-35d-60min.csv', import.meta.url), 'utf8'), 'per-second')
    expect(trace.series.length).toBe(35 * 24 * 60)
    const r = runBacktest(options(trace.series))
    expect(r.mape).toBeLessThan(0.15)
    expect(r.backlogMinutes.predictive).toBeLessThanOrEqual(r.backlogMinutes.reactive)
    expect(r.workerMinutes.predictive).toBeLessThanOrEqual(r.workerMinutes.reactive * 1.05)
  })

  it('halves the backlog of the shift-start bursts for at most 10 % more worker-minutes', () => {
    const plant = syntheticPlant({ seed: 1, weeks: 5 })
    const r = runBacktest(options(plant, { settings: { ...settings, predictive: { ...settings.predictive, leadMinutes: 3 }, calendar: plant.calendar } }))
    expect(r.backlogMinutes.reactive).toBeGreaterThan(0)
    expect(r.backlogMinutes.predictive).toBeLessThanOrEqual(r.backlogMinutes.reactive * 0.5)
    expect(r.workerMinutes.predictive).toBeLessThanOrEqual(r.workerMinutes.reactive * 1.1)
  })

  it('learns the headroom with the fewest backlog minutes, then the fewest worker-minutes', () => {
    const plant = syntheticPlant({ seed: 1, weeks: 3 })
    const learned = learnHeadroom(options(plant, { settings: { ...settings, predictive: { ...settings.predictive, leadMinutes: 3 }, calendar: plant.calendar } }), [1, 1.5, 3])
    expect(learned.tried.map((t) => t.headroom)).toEqual([1, 1.5, 3])
    const best = Math.min(...learned.tried.map((t) => t.backlogMinutes))
    const cheapest = Math.min(...learned.tried.filter((t) => t.backlogMinutes === best).map((t) => t.workerMinutes))
    expect(learned.tried.find((t) => t.headroom === learned.headroom)).toMatchObject({ backlogMinutes: best, workerMinutes: cheapest })
    // more headroom costs worker-minutes: the trials differ, so the choice is a real one
    expect(learned.tried[2]!.workerMinutes).toBeGreaterThan(learned.tried[0]!.workerMinutes)
  })
})
