import type { Detection } from '../domain/detection.ts'
import { iou } from './letterbox.ts'

export interface MatchReport {
  matched: number
  /** Detections of `a` with no same-class partner in `b` at the IoU threshold. */
  onlyA: number
  onlyB: number
}

/**
 * Greedy same-class matching, best score first; used for browser/server shadow checks and for
 * comparing runtimes in tests.
 */
export function matchDetections(a: readonly Detection[], b: readonly Detection[], iouThreshold = 0.5): MatchReport {
  const used = new Uint8Array(b.length)
  let matched = 0
  for (const d of [...a].sort((p, q) => q.score - p.score)) {
    let best = -1
    let bestIou = iouThreshold
    for (let j = 0; j < b.length; j++) {
      if (used[j] || b[j]!.classId !== d.classId) continue
      const v = iou(d.box, b[j]!.box)
      if (v >= bestIou) {
        bestIou = v
        best = j
      }
    }
    if (best >= 0) {
      used[best] = 1
      matched++
    }
  }
  return { matched, onlyA: a.length - matched, onlyB: b.length - matched }
}
