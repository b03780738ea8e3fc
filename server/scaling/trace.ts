/**
 * A plant's own load, from outside linesight, as a minute series the backtest and the what-if
 * replay step through: `timestamp,value` rows at any regular step from one minute to one hour.
 *
 * - timestamp: ISO 8601, or Unix time in seconds (milliseconds when above 1e12); each row's
 *   value covers the step that starts at its timestamp.
 * - value: frames in that step (`per-step`) or frames per second (`per-second`, what a
 *   Prometheus `rate()` gives).
 * - A header row (a first row whose value is not a number) is skipped; a missing step is a step
 *   without load (a recorder writes nothing when nothing arrives), and is counted in `gaps`.
 * - Resampling: the rate is interpolated linearly between step centres, so an hourly trace
 *   becomes a smooth minute series instead of a staircase whose steps read as bursts.
 *
 * Limits: at most MAX_ROWS rows and MAX_DAYS days; anything else is a TraceError with the line.
 */
import { MINUTE_MS, floorMinute, type MinuteSeries } from './series.ts'

export type TraceUnit = 'per-step' | 'per-second'

export const TRACE_LINE = 'trace'
const MAX_ROWS = 200_000
const MAX_DAYS = 120
const MAX_STEP_MS = 60 * MINUTE_MS

export class TraceError extends Error {
  readonly code = 'TRACE_INVALID'
  constructor(message: string) {
    super(message)
    this.name = 'TraceError'
  }
}

export interface TracePoint {
  /** ms */
  at: number
  /** frames/s over the step that starts at `at` */
  fps: number
}

export interface Trace {
  series: MinuteSeries
  stepMs: number
  rows: number
  /** Steps missing between the first and the last row, read as no load. */
  gaps: number
}

function parseTime(raw: string, line: number): number {
  const s = raw.trim()
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s)
    return n > 1e12 ? n : n * 1000
  }
  const ms = Date.parse(s)
  if (!Number.isFinite(ms)) throw new TraceError(`line ${line}: "${s}" is neither an ISO 8601 time nor Unix seconds`)
  return ms
}

/** Rows of `timestamp,value` text as frames/s points (step not yet checked). */
export function parseTraceCsv(text: string, unit: TraceUnit): { points: TracePoint[]; stepMs: number } {
  const raw: { at: number; value: number }[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim()
    if (!l || l.startsWith('#')) continue
    const cells = l.split(/[,;\t]/)
    if (cells.length < 2) throw new TraceError(`line ${i + 1}: expected "timestamp,value", got "${l.slice(0, 80)}"`)
    const value = Number(cells[1]!.trim())
    if (!Number.isFinite(value)) {
      if (raw.length === 0) continue // the header
      throw new TraceError(`line ${i + 1}: value "${cells[1]!.trim()}" is not a number`)
    }
    if (value < 0) throw new TraceError(`line ${i + 1}: a load cannot be negative (${value})`)
    raw.push({ at: parseTime(cells[0]!, i + 1), value })
    if (raw.length > MAX_ROWS) throw new TraceError(`more than ${MAX_ROWS} rows: use a coarser step`)
  }
  if (raw.length < 2) throw new TraceError('a trace needs at least two rows')
  raw.sort((a, b) => a.at - b.at)
  const stepMs = stepOf(raw.map((r) => r.at))
  const points = raw.map((r) => ({ at: r.at, fps: unit === 'per-step' ? r.value / (stepMs / 1000) : r.value }))
  return { points, stepMs }
}

/** The smallest spacing; every other spacing must be a whole multiple of it (missing rows). */
function stepOf(times: number[]): number {
  let step = Infinity
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!
    if (d === 0) throw new TraceError(`two rows at ${new Date(times[i]!).toISOString()}`)
    step = Math.min(step, d)
  }
  if (step % MINUTE_MS !== 0 || step > MAX_STEP_MS) throw new TraceError(`the step must be whole minutes from 1 to 60, found ${step / 1000} s`)
  for (let i = 1; i < times.length; i++) {
    if ((times[i]! - times[i - 1]!) % step !== 0) throw new TraceError(`irregular step at ${new Date(times[i]!).toISOString()}: rows must be ${step / 1000} s apart (or a multiple, for missing rows)`)
  }
  return step
}

/** Regular frames/s points to a minute series (one line, `trace`). */
export function resampleToMinutes(points: readonly TracePoint[], stepMs: number): Trace {
  const first = points[0]!.at
  const last = points[points.length - 1]!.at
  if (last - first > MAX_DAYS * 1440 * MINUTE_MS) throw new TraceError(`a trace may span at most ${MAX_DAYS} days`)
  const steps = Math.round((last - first) / stepMs) + 1
  const rate = new Float64Array(steps)
  for (const p of points) rate[Math.round((p.at - first) / stepMs)] = p.fps
  const gaps = steps - points.length

  const start = floorMinute(first)
  const length = Math.ceil((last + stepMs - start) / MINUTE_MS)
  const total = new Float64Array(length)
  const half = stepMs / 2
  for (let m = 0; m < length; m++) {
    // the rate at the middle of the minute, between the two nearest step centres
    const t = start + m * MINUTE_MS + MINUTE_MS / 2
    const x = (t - first - half) / stepMs
    const i = Math.floor(x)
    const lo = rate[Math.min(steps - 1, Math.max(0, i))]!
    const hi = rate[Math.min(steps - 1, Math.max(0, i + 1))]!
    const w = Math.min(1, Math.max(0, x - i))
    total[m] = (lo + (hi - lo) * w) * 60
  }
  return {
    series: { start, length, lines: new Map([[TRACE_LINE, total]]), total, recorded: new Uint8Array(length).fill(1) },
    stepMs,
    rows: points.length,
    gaps,
  }
}

export function traceFromCsv(text: string, unit: TraceUnit): Trace {
  const { points, stepMs } = parseTraceCsv(text, unit)
  return resampleToMinutes(points, stepMs)
}

/** Minute series back to CSV rows (the generator's output, a what-if export). */
export function seriesToCsv(total: Float64Array, start: number, stepMinutes: number): string {
  const out = ['timestamp,value']
  for (let i = 0; i + stepMinutes <= total.length; i += stepMinutes) {
    let frames = 0
    for (let j = 0; j < stepMinutes; j++) frames += total[i + j]!
    out.push(`${new Date(start + i * MINUTE_MS).toISOString()},${Math.round(frames)}`)
  }
  return `${out.join('\n')}\n`
}
