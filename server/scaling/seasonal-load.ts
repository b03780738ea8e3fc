/**
 * A SYNTHETIC smooth, daily-seasonal load, standing in for a public trace (none can be
 * downloaded here). It is shaped like the request traces such studies use (web, serverless,
 * continuous-process plants), and unlike the synthetic plant (synthetic-plant.ts) it has:
 *  - no shifts, bursts or breaks: the load rises and falls over hours, a daily curve of two
 *    harmonics (a morning rise, an afternoon peak, a night trough that never reaches zero);
 *  - weekends at 70 % of a weekday, and a slow weekly trend (+-3 %);
 *  - noise that is correlated from minute to minute (AR(1), sd 4 %), plus +-5 % per day;
 *  - optionally an unusual day (`eventDay`) when the load falls to 35 % (an outage, a holiday
 *    nobody put in the calendar): the forecast, trained on normal days, overshoots all that day.
 * The synthetic plant jumps x3.6 within one minute at every shift start, which no reactive
 * scaler can follow; this load's steepest hour changes by a few percent per minute, which one
 * can: a predictive policy has nothing to gain here and must not spend more.
 */
import { MINUTE_MS, type MinuteSeries } from './series.ts'
import { rng } from './synthetic-plant.ts'
import { TRACE_LINE } from './trace.ts'

export interface SeasonalOptions {
  seed: number
  days: number
  /** Frames/s at the daily peak of a weekday. @default 60 */
  peakFps?: number
  /** Trough / peak. @default 0.2 */
  troughShare?: number
  /** ms of the first minute. @default 2025-01-06T00:00Z (a Monday) */
  start?: number
  /** 0-based day whose load falls to 35 %. */
  eventDay?: number
}

const gauss = (r: () => number, sd: number) => (r() + r() + r() + r() - 2) * sd * Math.sqrt(3)

/** 0..1 over a day: trough near 03:30, peak near 14:30, a shoulder in the evening. */
export function dailyShape(minuteOfDay: number): number {
  const x = (2 * Math.PI * minuteOfDay) / 1440
  const raw = -Math.cos(x - 0.4) + 0.35 * Math.cos(2 * x - 2.6)
  // raw spans about [-1.2, 1.2]; map to [0, 1]
  return Math.min(1, Math.max(0, (raw + 1.2) / 2.4))
}

export function seasonalLoad(o: SeasonalOptions): MinuteSeries {
  const start = o.start ?? Date.UTC(2025, 0, 6)
  const peak = o.peakFps ?? 60
  const trough = o.troughShare ?? 0.2
  const length = o.days * 1440
  const r = rng(o.seed)
  const total = new Float64Array(length)
  let ar = 0
  let dayLevel = 1
  for (let i = 0; i < length; i++) {
    const date = new Date(start + i * MINUTE_MS)
    const minute = date.getUTCHours() * 60 + date.getUTCMinutes()
    const day = Math.floor(i / 1440)
    if (minute === 0) dayLevel = 1 + gauss(r, 0.05)
    ar = 0.97 * ar + gauss(r, 0.04 * Math.sqrt(1 - 0.97 ** 2))
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6 ? 0.7 : 1
    const trend = 1 + 0.03 * Math.sin((2 * Math.PI * i) / (7 * 1440 * 3))
    const event = day === o.eventDay ? 0.35 : 1
    const level = trough + (1 - trough) * dailyShape(minute)
    total[i] = Math.max(0, peak * 60 * level * weekend * trend * dayLevel * event * (1 + ar))
  }
  return { start, length, lines: new Map([[TRACE_LINE, total]]), total, recorded: new Uint8Array(length).fill(1) }
}
