/**
 * What a kiosk shows for one line, folded from the stream of results: pass/fail counts, detections
 * per class, the latest result and the last failures. Counts start when the kiosk starts (the
 * tile says since when); the failures list is seeded from the history so it is not blank.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'

export interface LineBoard {
  line: string
  /** When counting started, ms since the epoch. */
  since: number
  pass: number
  fail: number
  /** Frames whose inference failed (dead-lettered, undecodable): neither pass nor fail. */
  errors: number
  perClass: Record<string, number>
  latest: InspectionResult | null
  latestAt: number | null
  /** Newest first. */
  failures: InspectionResult[]
  /** Recently seen frame ids, so a result delivered twice is counted once. */
  seen: string[]
}

const SEEN_LIMIT = 512

export function newBoard(line: string, now: number): LineBoard {
  return { line, since: now, pass: 0, fail: 0, errors: 0, perClass: {}, latest: null, latestAt: null, failures: [], seen: [] }
}

/** False when the result was already counted. */
export function applyResult(board: LineBoard, result: InspectionResult, receivedAt: number, maxFailures: number): boolean {
  if (board.seen.includes(result.frameId)) return false
  board.seen.push(result.frameId)
  if (board.seen.length > SEEN_LIMIT) board.seen.splice(0, board.seen.length - SEEN_LIMIT)

  if (result.error) board.errors++
  else if (result.verdict === 'fail') board.fail++
  else board.pass++
  for (const d of result.detections) board.perClass[d.class] = (board.perClass[d.class] ?? 0) + 1
  board.latest = result
  board.latestAt = receivedAt
  if (result.verdict === 'fail' && !result.error) addFailures(board, [result], maxFailures)
  return true
}

/** Merges failures (live or from history) into the newest-first list, without duplicates. */
export function addFailures(board: LineBoard, failures: readonly InspectionResult[], max: number): void {
  const byId = new Map(board.failures.map((f) => [f.frameId, f]))
  for (const f of failures) byId.set(f.frameId, f)
  board.failures = [...byId.values()].sort((a, b) => b.capturedAt - a.capturedAt).slice(0, max)
}

/** Share of inspected parts that passed, 0..1; null before the first verdict. */
export function passRate(board: Pick<LineBoard, 'pass' | 'fail'>): number | null {
  const n = board.pass + board.fail
  return n === 0 ? null : board.pass / n
}

/** Classes by count, most frequent first; ties in name order so tiles do not jitter. */
export function classRanking(board: Pick<LineBoard, 'perClass'>): [string, number][] {
  return Object.entries(board.perClass).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}
