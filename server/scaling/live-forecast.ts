/**
 * The forecast the live supervisor reads: rebuilt from the last 29 days of load history every
 * `refreshMs` (and when the calendar changes), in the background, so a slow database never
 * delays a scaling decision; until the first build, there is no forecast (reactive only).
 */
import type { ShiftCalendar } from '../../shared/domain/scaling.ts'
import type { Logger } from '../log.ts'
import type { LoadHistory } from '../storage/load-history.ts'
import { Forecaster } from './forecast.ts'
import { floorMinute, toSeries } from './series.ts'

const HISTORY_DAYS = 29
const DAY_MS = 86_400_000

export class LiveForecast {
  #forecaster: Forecaster | undefined
  #builtAt = -Infinity
  #calendar: string | undefined
  #building: Promise<void> | undefined

  constructor(
    private readonly history: Pick<LoadHistory, 'range'>,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly refreshMs = 10 * 60_000,
  ) {}

  /** Forecast peak frames/s over [now, now + lead]; undefined until history has been read. */
  peakFps(now: number, leadMinutes: number, calendar: ShiftCalendar): number | undefined {
    const key = JSON.stringify(calendar)
    if (!this.#building && (now - this.#builtAt >= this.refreshMs || key !== this.#calendar)) {
      this.#building = this.#build(now, calendar, key).finally(() => (this.#building = undefined))
    }
    return this.#forecaster?.peakFps(now, leadMinutes)
  }

  /** The forecast for the minute under way, frames/s: the base the ramp ahead is measured from. */
  expectedFps(now: number): number | undefined {
    return this.#forecaster?.expectedFps(now, now)
  }

  /** Resolves when a build in progress is done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#building
  }

  async #build(now: number, calendar: ShiftCalendar, key: string): Promise<void> {
    try {
      // the minute under way is not recorded yet: leaving it out keeps it from reading as a lull
      const to = floorMinute(now)
      const from = to - HISTORY_DAYS * DAY_MS
      const samples = await this.history.range(from, to)
      this.#forecaster = samples.length ? new Forecaster(toSeries(samples, from, to), { calendar }) : undefined
      this.#calendar = key
      this.#builtAt = now
    } catch (err) {
      // the previous forecast (or none) stays; the next tick tries again after refreshMs
      this.#builtAt = now
      this.log.warn({ err: String(err) }, 'scaling: could not read the load history for the forecast')
    }
  }
}
