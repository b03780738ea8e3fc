/**
 * The few statistics the benchmark reports. Latencies are kept whole (a run is at most a few
 * hundred thousand samples), so percentiles are exact rather than estimated from buckets.
 */

export interface Latency {
  n: number
  p50: number
  p95: number
  p99: number
  mean: number
}

/** Nearest-rank percentile of a sorted array; NaN when it is empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export function latencyOf(samples: readonly number[] | Float64Array): Latency {
  const sorted = Float64Array.from(samples).sort()
  let sum = 0
  for (const x of sorted) sum += x
  return {
    n: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

export function median(xs: readonly number[]): number {
  const finite = xs.filter((x) => Number.isFinite(x))
  if (!finite.length) return Number.NaN
  return percentileOfSorted(Float64Array.from(finite).sort(), 50)
}

/** The middle of an odd count; the lower middle of an even one, so the value is one actually measured. */
export function medianBy<T>(items: readonly T[], key: (t: T) => number): T {
  if (!items.length) throw new RangeError('medianBy of nothing')
  const sorted = [...items].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

/** Per-round values and their median, as results.json records every measured number. */
export interface Repeated {
  median: number
  runs: number[]
}

export function repeated(runs: number[]): Repeated {
  return { median: median(runs), runs }
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : Number.NaN)

/**
 * The per-field median of same-shaped run records (numbers at any depth; other values are taken
 * from the first run that has them). Rounds of a noisy machine are summarised this way, and the
 * runs themselves are kept beside the summary.
 */
export function medianDeep<T>(runs: readonly T[]): T {
  if (!runs.length) throw new RangeError('medianDeep of nothing')
  const first = runs.find((r) => r !== undefined && r !== null)
  if (typeof first === 'number') return median(runs as unknown as number[]) as T
  if (typeof first !== 'object' || first === null || Array.isArray(first) || ArrayBuffer.isView(first)) return first as T
  const keys = new Set(runs.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))
  const out: Record<string, unknown> = {}
  for (const k of keys) {
    const values = runs.map((r) => (r as Record<string, unknown>)[k]).filter((x) => x !== undefined)
    out[k] = medianDeep(values)
  }
  return out as T
}
