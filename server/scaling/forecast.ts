/**
 * Frames/s forecast per line from the recorded history, kept explainable:
 *
 *   seasonal(m) = weighted mean of the same minute 1, 2, 3, 4 weeks ago (weights 1, 1/2, 1/4,
 *                 1/8) and of the same minute yesterday (weight 1) when yesterday was the same
 *                 kind of day (weekday / Saturday / Sunday). Averaging over up to five past
 *                 days already evens out a noisy minute; smoothing each looked-up minute over
 *                 its neighbours (`smoothMinutes`) blurs the sharp edges of bursts and breaks
 *                 (the synthetic plant's MAPE went from 8.6 % to 11.9 % at +-2), so it is off by
 *                 default; `peakFps` looks at a window of minutes anyway;
 *   level        = recorded / seasonal over the last `levelMinutes` before the forecast is made,
 *                 clamped to [0.3, 1.4]: a busier or quieter day than usual scales the rest of it
 *                 (down to 0.3: a day that falls to a third, an unplanned stop, follows within
 *                 the hour; at 0.7 such a day kept the MAPE at 20 %);
 *   expected(m)  = seasonal(m) x level; without any seasonal data, the calendar's learned level
 *                 for the phase (e.g. "early shift, burst"), else the mean of the last 15 minutes.
 *
 * The shift calendar adds known bursts: `peakFps` (what the policy pre-warms for) is the largest
 * expectation over the next `lead` minutes, where a minute in a shift's start-up burst is at
 * least the burst level learned for that shift. The forecast only ever raises the policy's
 * floor (policy.ts), so a wrong lull costs nothing and a wrong burst costs worker-minutes.
 */
import type { ShiftCalendar } from '../../shared/domain/scaling.ts'
import { CalendarModel, LocalClock, sameKindOfDay } from './calendar.ts'
import { MINUTE_MS, type MinuteSeries } from './series.ts'

const DAY = 1440
const WEEK = 7 * DAY

export interface ForecastOptions {
  /** Past weeks read. @default 4 */
  weeks?: number
  /** +- minutes averaged around each looked-up minute. @default 0 */
  smoothMinutes?: number
  /** Minutes compared for the level factor; 0 turns it off. @default 60 */
  levelMinutes?: number
  calendar?: ShiftCalendar | undefined
  /** Slots before this index train the calendar levels (the backtest keeps its test week out). @default all */
  trainUntil?: number
}

const LEVEL_MIN = 0.3
const LEVEL_MAX = 1.4
const RECENT_MINUTES = 15

export class Forecaster {
  readonly #series: MinuteSeries
  readonly #weeks: number
  readonly #smooth: number
  readonly #levelMinutes: number
  readonly #calendar: CalendarModel | undefined
  readonly #clock: LocalClock
  /** Learned frames/min per calendar key (`shift|phase`), summed over lines. */
  readonly #phaseLevels = new Map<string, number>()
  #levelCache: { known: number; levels: Map<string, number> } | undefined

  constructor(series: MinuteSeries, opts: ForecastOptions = {}) {
    this.#series = series
    this.#weeks = opts.weeks ?? 4
    this.#smooth = opts.smoothMinutes ?? 0
    this.#levelMinutes = opts.levelMinutes ?? 60
    this.#calendar = opts.calendar && (opts.calendar.shifts.length || opts.calendar.breaks.length) ? new CalendarModel(opts.calendar) : undefined
    this.#clock = this.#calendar?.clock ?? new LocalClock(opts.calendar?.timeZone ?? 'UTC')
    if (this.#calendar) this.#learnPhases(Math.min(series.length, opts.trainUntil ?? series.length))
  }

  get series(): MinuteSeries {
    return this.#series
  }

  /** Expected frames/s over all lines at minute `ms`, knowing only slots before `asOf` (ms). */
  expectedFps(ms: number, asOf: number): number {
    // a forecast built a while ago knows nothing after its last slot, rather than zeros
    const known = Math.min(this.#index(asOf), this.#series.length)
    const levels = this.#levels(known)
    let perMinute = 0
    let anySeasonal = false
    for (const [line, values] of this.#series.lines) {
      const s = this.#seasonal(values, ms, known)
      if (s === undefined) continue
      anySeasonal = true
      perMinute += s * levels.get(line)!
    }
    if (anySeasonal) return perMinute / 60
    const phase = this.#phaseLevel(ms)
    if (phase !== undefined) return phase / 60
    return this.#recent(known) / 60
  }

  /** The largest expectation over [now, now + lead minutes], calendar bursts included, frames/s. */
  peakFps(now: number, leadMinutes: number): number {
    let peak = 0
    for (let k = 0; k <= leadMinutes; k++) {
      const m = now + k * MINUTE_MS
      let v = this.expectedFps(m, now)
      if (this.#calendar?.phaseAt(m).phase === 'burst') v = Math.max(v, (this.#phaseLevel(m) ?? 0) / 60)
      if (v > peak) peak = v
    }
    return peak
  }

  /** The level factor per line, as of slot `known` (the last one is kept: peakFps asks 1 + lead times). */
  #levels(known: number): Map<string, number> {
    if (this.#levelCache?.known === known) return this.#levelCache.levels
    const levels = new Map<string, number>()
    for (const [line, values] of this.#series.lines) levels.set(line, this.#level(values, known))
    this.#levelCache = { known, levels }
    return levels
  }

  #index(ms: number): number {
    return Math.floor((ms - this.#series.start) / MINUTE_MS)
  }

  /** Mean of slots [i - smooth, i + smooth] that lie before `known`; undefined if none. */
  #around(values: Float64Array, i: number, known: number): number | undefined {
    if (i < 0) return undefined
    let sum = 0
    let n = 0
    const lo = Math.max(0, i - this.#smooth)
    const hi = Math.min(known - 1, this.#series.length - 1, i + this.#smooth)
    for (let j = lo; j <= hi; j++) {
      sum += values[j]!
      n++
    }
    return n ? sum / n : undefined
  }

  #seasonal(values: Float64Array, ms: number, known: number): number | undefined {
    const i = this.#index(ms)
    let sum = 0
    let weight = 0
    for (let k = 1; k <= this.#weeks; k++) {
      const v = this.#around(values, i - k * WEEK, known)
      if (v === undefined) continue
      const w = 1 / 2 ** (k - 1)
      sum += v * w
      weight += w
    }
    if (sameKindOfDay(this.#clock.at(ms).day, this.#clock.at(ms - DAY * MINUTE_MS).day)) {
      const v = this.#around(values, i - DAY, known)
      if (v !== undefined) {
        sum += v
        weight += 1
      }
    }
    return weight ? sum / weight : undefined
  }

  #level(values: Float64Array, known: number): number {
    if (this.#levelMinutes <= 0) return 1
    let actual = 0
    let expected = 0
    for (let i = Math.max(0, known - this.#levelMinutes); i < known; i++) {
      const s = this.#seasonal(values, this.#series.start + i * MINUTE_MS, known)
      if (s === undefined) return 1
      actual += values[i]!
      expected += s
    }
    // a quiet hour (a night, a break) says nothing about how busy the next shift will be
    if (expected < this.#levelMinutes * 60) return 1
    return Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, actual / expected))
  }

  #recent(known: number): number {
    let sum = 0
    let n = 0
    for (let i = Math.max(0, known - RECENT_MINUTES); i < Math.min(known, this.#series.length); i++) {
      sum += this.#series.total[i]!
      n++
    }
    return n ? sum / n : 0
  }

  #key(ms: number): string | undefined {
    if (!this.#calendar) return undefined
    const p = this.#calendar.phaseAt(ms)
    return `${p.shift ?? '-'}|${p.phase}`
  }

  #phaseLevel(ms: number): number | undefined {
    const key = this.#key(ms)
    return key === undefined ? undefined : this.#phaseLevels.get(key)
  }

  #learnPhases(until: number): void {
    const sums = new Map<string, { sum: number; n: number }>()
    for (let i = 0; i < until; i++) {
      if (!this.#series.recorded[i] && this.#series.total[i] === 0) continue
      const key = this.#key(this.#series.start + i * MINUTE_MS)!
      const acc = sums.get(key) ?? { sum: 0, n: 0 }
      acc.sum += this.#series.total[i]!
      acc.n++
      sums.set(key, acc)
    }
    for (const [k, v] of sums) this.#phaseLevels.set(k, v.sum / v.n)
  }
}
