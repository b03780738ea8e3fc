/**
 * One backtest over a load series: the forecast's error on the evaluation days, then the same
 * days simulated twice with the same worker start delays, predictive and reactive-only.
 */
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { Forecaster } from './forecast.ts'
import { MINUTE_MS, type MinuteSeries } from './series.ts'
import { simulate, type SimResult } from './simulate.ts'

export interface BacktestOptions {
  series: MinuteSeries
  settings: ScalingSettings
  /** The last `evalDays` days are scored; everything before is history. */
  evalDays: number
  startSeconds: readonly [number, number]
  seed: number
  backlogThreshold: number
  /** Minutes below this many frames/s are left out of the MAPE (a near-zero denominator says nothing). */
  mapeMinFps: number
  queueMaxLength?: number
  offloadShare?: number
}

export interface RunFigures {
  backlogMinutes: number
  workerMinutes: number
  maxQueue: number
  refusedFrames: number
  offloadMinutes: number
}

export interface BacktestResult {
  /** Mean absolute percentage error of the forecast `leadMinutes` ahead, evaluation minutes with load. */
  mape: number
  mapeMinutes: number
  backlogMinutes: { predictive: number; reactive: number }
  workerMinutes: { predictive: number; reactive: number }
  predictive: RunFigures
  reactive: RunFigures
  evalFrom: number
  evalTo: number
}

export interface HeadroomTrial {
  headroom: number
  backlogMinutes: number
  workerMinutes: number
}

export interface LearnedHeadroom {
  /** The headroom that pays: the fewest backlog minutes, then the fewest worker-minutes. */
  headroom: number
  tried: HeadroomTrial[]
}

export const HEADROOM_CANDIDATES = [1, 1.1, 1.2, 1.35, 1.5, 2] as const

export function runBacktest(o: BacktestOptions): BacktestResult {
  const b = prepare(o)
  const p = b.run(true)
  const r = b.run(false)
  return {
    mape: b.mape,
    mapeMinutes: b.mapeMinutes,
    backlogMinutes: { predictive: p.backlogMinutes, reactive: r.backlogMinutes },
    workerMinutes: { predictive: round(p.workerMinutes), reactive: round(r.workerMinutes) },
    predictive: figures(p),
    reactive: figures(r),
    evalFrom: b.evalFrom,
    evalTo: b.evalTo,
  }
}

/**
 * The same evaluation days replayed with each candidate headroom (same forecast, same start
 * delays): more headroom only pays while it removes backlog minutes, so the choice is the
 * fewest backlog minutes, and among those the fewest worker-minutes.
 */
export function learnHeadroom(o: BacktestOptions, candidates: readonly number[] = HEADROOM_CANDIDATES): LearnedHeadroom {
  const b = prepare(o)
  const tried = candidates.map((headroom): HeadroomTrial => {
    const x = b.run(true, headroom)
    return { headroom, backlogMinutes: x.backlogMinutes, workerMinutes: round(x.workerMinutes) }
  })
  const best = [...tried].sort((a, c) => a.backlogMinutes - c.backlogMinutes || a.workerMinutes - c.workerMinutes)[0]!
  return { headroom: best.headroom, tried }
}

function prepare(o: BacktestOptions) {
  const { series, settings } = o
  const evalSlots = Math.min(series.length, o.evalDays * 1440)
  const from = series.length - evalSlots
  if (from < 7 * 1440) throw new RangeError(`a backtest needs at least 7 days of history before the ${o.evalDays} evaluated days (has ${(from / 1440).toFixed(1)})`)
  const forecaster = new Forecaster(series, { calendar: settings.calendar, trainUntil: from })
  const lead = settings.predictive.leadMinutes
  const at = (slot: number) => series.start + slot * MINUTE_MS

  let errSum = 0
  let errN = 0
  for (let slot = from; slot < series.length; slot++) {
    const actual = series.total[slot]! / 60
    if (actual < o.mapeMinFps) continue
    const predicted = forecaster.expectedFps(at(slot), at(slot - lead))
    errSum += Math.abs(predicted - actual) / actual
    errN++
  }

  const floor = new Float64Array(series.length)
  const present = new Float64Array(series.length)
  for (let slot = from; slot < series.length; slot++) {
    floor[slot] = forecaster.peakFps(at(slot), lead)
    present[slot] = forecaster.expectedFps(at(slot), at(slot))
  }
  const run = (predictive: boolean, headroom = settings.predictive.headroom): SimResult =>
    simulate({
      demand: series.total,
      start: series.start,
      from,
      to: series.length,
      settings: { ...settings, predictive: { ...settings.predictive, enabled: predictive, headroom } },
      forecastFps: (slot) => floor[slot],
      forecastNowFps: (slot) => present[slot],
      startSeconds: o.startSeconds,
      seed: o.seed,
      backlogThreshold: o.backlogThreshold,
      ...(o.queueMaxLength !== undefined ? { queueMaxLength: o.queueMaxLength } : {}),
      ...(o.offloadShare !== undefined ? { offloadShare: o.offloadShare } : {}),
    })
  return { run, mape: errN ? round(errSum / errN, 4) : Number.NaN, mapeMinutes: errN, evalFrom: at(from), evalTo: at(series.length) }
}

function figures(x: SimResult): RunFigures {
  return {
    backlogMinutes: x.backlogMinutes,
    workerMinutes: round(x.workerMinutes),
    maxQueue: round(x.maxQueue),
    refusedFrames: round(x.refusedFrames),
    offloadMinutes: x.offloadMinutes,
  }
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits
