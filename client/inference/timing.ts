/**
 * The measured choice, without onnxruntime: timing with a warm-up and a median, and picking the
 * backend with the lowest per-frame cost.
 */
import type { CandidateReport } from './api.ts'

export interface TimingPlan {
  runs: number
  budgetMs: number
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** One warm-up run (shader compilation, allocation), then up to `runs` timed runs within the budget. */
export async function timeModel(run: () => Promise<number>, plan: TimingPlan, now: () => number = () => performance.now()): Promise<{ ms: number; runs: number; warmupMs: number }> {
  const warmupMs = await run()
  const times: number[] = []
  const started = now()
  do times.push(await run())
  while (times.length < plan.runs && now() - started < plan.budgetMs)
  return { ms: median(times), runs: times.length, warmupMs }
}

/** Per-frame cost of a backend: the prefilter runs on every frame, the detector on those inferred here. */
export function frameCost(c: CandidateReport): number {
  return (c.prefilterMs ?? 0) + (c.detectorMs ?? Number.POSITIVE_INFINITY)
}

/** The fastest candidate that works; ties go to the earlier (preferred) one. */
export function pickFastest(candidates: readonly CandidateReport[]): CandidateReport | null {
  let best: CandidateReport | null = null
  for (const c of candidates) if (c.ok && (best === null || frameCost(c) < frameCost(best))) best = c
  return best
}
