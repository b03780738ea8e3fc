/**
 * Recorded load (per line and minute, sparse: a minute nobody sent anything in has no row) as
 * dense arrays, one slot per minute, which is what the forecast and the simulation step through.
 */
import type { LoadSample } from '../storage/load-history.ts'

export const MINUTE_MS = 60_000

export interface MinuteSeries {
  /** ms of slot 0, minute-aligned. */
  start: number
  /** Slots (minutes). */
  length: number
  /** Server-bound frames per minute, by line: received minus inferred in browsers. */
  lines: Map<string, Float64Array>
  /** The sum over lines. */
  total: Float64Array
  /** Slots that had any row at all (the rest are presumed idle). */
  recorded: Uint8Array
}

export const floorMinute = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS

/** `to` is exclusive; samples outside [from, to) are ignored. */
export function toSeries(samples: readonly LoadSample[], from: number, to: number, line?: string): MinuteSeries {
  const start = floorMinute(from)
  const length = Math.max(0, Math.ceil((to - start) / MINUTE_MS))
  const lines = new Map<string, Float64Array>()
  const total = new Float64Array(length)
  const recorded = new Uint8Array(length)
  for (const s of samples) {
    if (line !== undefined && s.line !== line) continue
    const i = Math.floor((s.minute - start) / MINUTE_MS)
    if (i < 0 || i >= length) continue
    let arr = lines.get(s.line)
    if (!arr) lines.set(s.line, (arr = new Float64Array(length)))
    const server = Math.max(0, s.frames - s.browserFrames)
    arr[i] = (arr[i] ?? 0) + server
    total[i] = (total[i] ?? 0) + server
    recorded[i] = 1
  }
  return { start, length, lines, total, recorded }
}

/** Per minute, what the recorder saw of the servers (across lines: the largest). */
export interface RecordedState {
  workers: Float64Array
  queueDepthMax: Float64Array
  p95Ms: Float64Array
}

export function recordedState(samples: readonly LoadSample[], series: Pick<MinuteSeries, 'start' | 'length'>): RecordedState {
  const workers = new Float64Array(series.length)
  const queueDepthMax = new Float64Array(series.length)
  const p95Ms = new Float64Array(series.length)
  for (const s of samples) {
    const i = Math.floor((s.minute - series.start) / MINUTE_MS)
    if (i < 0 || i >= series.length) continue
    // every line's row of a minute carries the same process-wide figures: take the largest
    workers[i] = Math.max(workers[i]!, s.workers)
    queueDepthMax[i] = Math.max(queueDepthMax[i]!, s.queueDepthMax)
    p95Ms[i] = Math.max(p95Ms[i]!, s.p95Ms)
  }
  return { workers, queueDepthMax, p95Ms }
}
