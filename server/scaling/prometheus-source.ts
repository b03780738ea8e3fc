/**
 * Load history from a Prometheus range query (`/api/v1/query_range`), for a plant that has
 * months of metrics but not yet 14 days in linesight. The query should give frames per second
 * (e.g. `sum(rate(linesight_frames_received_total[5m]))`); every series it returns is summed.
 *
 * Prometheus answers at most 11,000 points per series, so the span is asked for in windows of
 * WINDOW_STEPS steps. A step without a value (no sample) is a step without load.
 */
import { TraceError, resampleToMinutes, type Trace, type TracePoint } from './trace.ts'

const WINDOW_STEPS = 10_000

export interface PrometheusQuery {
  url: string
  query: string
  /** ms */
  from: number
  to: number
  /** Seconds between points. @default 60 */
  stepSeconds?: number
  /** Sent as `Authorization: Bearer ...` (never in the URL). */
  token?: string | undefined
  fetchImpl?: typeof fetch
}

interface RangeResponse {
  status: 'success' | 'error'
  error?: string
  data?: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] }
}

export async function traceFromPrometheus(q: PrometheusQuery): Promise<Trace> {
  const step = q.stepSeconds ?? 60
  if (step % 60 !== 0 || step < 60 || step > 3600) throw new TraceError('--step must be whole minutes from 60 to 3600 seconds')
  const sums = new Map<number, number>()
  const f = q.fetchImpl ?? fetch
  const base = q.url.replace(/\/+$/, '')
  const fromS = Math.floor(q.from / 1000 / step) * step
  const toS = Math.floor(q.to / 1000 / step) * step
  for (let s = fromS; s <= toS; s += WINDOW_STEPS * step) {
    const e = Math.min(toS, s + (WINDOW_STEPS - 1) * step)
    const body = new URLSearchParams({ query: q.query, start: String(s), end: String(e), step: String(step) })
    const res = await f(`${base}/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(q.token ? { authorization: `Bearer ${q.token}` } : {}) },
      body,
    })
    const json = (await res.json().catch(() => undefined)) as RangeResponse | undefined
    if (!res.ok || !json || json.status !== 'success' || !json.data) throw new TraceError(`Prometheus answered ${res.status}: ${json?.error ?? 'not a query_range reply'}`)
    if (json.data.resultType !== 'matrix') throw new TraceError(`the query must give a range vector (matrix), got ${json.data.resultType}`)
    for (const series of json.data.result) {
      for (const [t, v] of series.values) {
        const n = Number(v)
        if (!Number.isFinite(n)) continue // NaN from a division by zero: no load known
        sums.set(t, (sums.get(t) ?? 0) + Math.max(0, n))
      }
    }
  }
  if (sums.size < 2) throw new TraceError('the query returned fewer than two points in the span')
  const times = [...sums.keys()].sort((a, b) => a - b)
  const points: TracePoint[] = []
  // fill every step of the span, so a silent stretch reads as no load, not as a gap to bridge
  for (let t = times[0]!; t <= times[times.length - 1]!; t += step) points.push({ at: t * 1000, fps: sums.get(t) ?? 0 })
  return resampleToMinutes(points, step * 1000)
}
