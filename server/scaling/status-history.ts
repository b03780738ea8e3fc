/**
 * The status page's history: recorded load between `from` and `to`, in buckets of a round step
 * chosen so a range never has more than ~720 points (1 h: 1 minute; 24 h: 2 minutes; 7 days:
 * 15 minutes). Rates are over the whole bucket (a minute without a record counts as idle); the
 * process-wide figures (queue, workers, p95) are per minute the largest over lines, then
 * summarised per bucket. Only p95 is recorded per minute, so the "percentiles" shown are the
 * bucket's worst minute and its median minute.
 */
import type { HistoryPoint, StatusHistory } from '../../shared/domain/scaling.ts'
import { CodedError } from '../errors.ts'
import type { LoadHistory } from '../storage/load-history.ts'
import { MINUTE_MS, floorMinute } from './series.ts'

const MAX_POINTS = 720
const STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440]
const MAX_SPAN_MS = 35 * 86_400_000

export interface HistoryQuery {
  from: number
  to: number
  line?: string | undefined
}

export function stepFor(spanMs: number): number {
  const minutes = Math.ceil(spanMs / MINUTE_MS / MAX_POINTS)
  return (STEPS_MINUTES.find((s) => s >= minutes) ?? STEPS_MINUTES[STEPS_MINUTES.length - 1]!) * MINUTE_MS
}

interface Minute {
  frames: number
  skipped: number
  browser: number
  queue: number
  workers: number
  p95: number
}

export async function statusHistory(history: Pick<LoadHistory, 'range'>, q: HistoryQuery): Promise<StatusHistory> {
  if (!(q.to > q.from)) throw new CodedError('bad_range', '"to" must be after "from"')
  if (q.to - q.from > MAX_SPAN_MS) throw new CodedError('bad_range', 'the history covers at most 35 days per request')
  const step = stepFor(q.to - q.from)
  const from = Math.floor(q.from / step) * step
  const to = q.to
  const samples = await history.range(from, to, q.line)
  const lines = new Set<string>()
  const minutes = new Map<number, Minute>()
  for (const s of samples) {
    lines.add(s.line)
    const m = minutes.get(s.minute) ?? { frames: 0, skipped: 0, browser: 0, queue: 0, workers: 0, p95: 0 }
    m.frames += s.frames
    m.skipped += s.skipped
    m.browser += s.browserFrames
    m.queue = Math.max(m.queue, s.queueDepthMax)
    m.workers = Math.max(m.workers, s.workers)
    m.p95 = Math.max(m.p95, s.p95Ms)
    minutes.set(s.minute, m)
  }
  const points: HistoryPoint[] = []
  for (let t = from; t < to; t += step) {
    const inBucket: Minute[] = []
    for (let m = t; m < t + step; m += MINUTE_MS) {
      const v = minutes.get(m)
      if (v) inBucket.push(v)
    }
    points.push(bucket(t, Math.min(step, floorMinute(to - 1) + MINUTE_MS - t), inBucket))
  }
  return { from, to, stepMs: step, line: q.line ?? null, lines: [...lines].sort(), points }
}

function bucket(t: number, spanMs: number, ms: Minute[]): HistoryPoint {
  const seconds = Math.max(1, spanMs / 1000)
  let frames = 0
  let skipped = 0
  let browser = 0
  let queue = 0
  let workersMax = 0
  let workersSum = 0
  let p95Max = 0
  for (const m of ms) {
    frames += m.frames
    skipped += m.skipped
    browser += m.browser
    queue = Math.max(queue, m.queue)
    workersMax = Math.max(workersMax, m.workers)
    workersSum += m.workers
    p95Max = Math.max(p95Max, m.p95)
  }
  const p95s = ms.map((m) => m.p95).filter((v) => v > 0).sort((a, b) => a - b)
  return {
    t,
    minutes: ms.length,
    framesPerSec: round(frames / seconds),
    skippedPerSec: round(skipped / seconds),
    browserPerSec: round(browser / seconds),
    offloadShare: frames > 0 ? round(Math.min(1, browser / frames), 3) : 0,
    queueDepthMax: queue,
    workersMax,
    workersMean: ms.length ? round(workersSum / ms.length) : 0,
    p95MsMax: p95Max,
    p95MsMedian: p95s.length ? p95s[Math.floor((p95s.length - 1) / 2)]! : 0,
  }
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits
