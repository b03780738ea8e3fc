import { iou, type Box } from './letterbox.ts'

export interface Candidate {
  classId: number
  score: number
  box: Box
}

/**
 * Greedy non-maximum suppression. Class-aware by default: a box only suppresses boxes of its own
 * class, as Ultralytics' `non_max_suppression(agnostic=False)` does.
 */
export function nms(candidates: Candidate[], iouThreshold: number, maxDetections: number, agnostic = false): Candidate[] {
  const sorted = candidates.slice().sort((p, q) => q.score - p.score)
  const kept: Candidate[] = []
  for (const c of sorted) {
    if (kept.length >= maxDetections) break
    let suppressed = false
    for (const k of kept) {
      if ((agnostic || k.classId === c.classId) && iou(k.box, c.box) > iouThreshold) {
        suppressed = true
        break
      }
    }
    if (!suppressed) kept.push(c)
  }
  return kept
}
