/**
 * COCO-style average precision: greedy matching of score-sorted detections to unmatched ground
 * truth of the same class at each IoU threshold, then precision made monotone and sampled at
 * 101 recall points (the interpolation pycocotools and Ultralytics use).
 */
import { iou, type Box } from '../../../shared/inference/letterbox.ts'

export const IOU_THRESHOLDS = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i)

export interface Scored {
  classId: number
  score: number
  box: Box
}

export interface Labelled {
  classId: number
  box: Box
}

interface ClassRecords {
  scores: number[]
  /** tp[t][k]: detection k is a true positive at IoU threshold t. */
  tp: boolean[][]
  gt: number
}

export class ApAccumulator {
  private readonly records: ClassRecords[]

  constructor(readonly numClasses: number) {
    this.records = Array.from({ length: numClasses }, () => ({ scores: [], tp: IOU_THRESHOLDS.map(() => []), gt: 0 }))
  }

  addImage(detections: readonly Scored[], truth: readonly Labelled[]): void {
    for (let c = 0; c < this.numClasses; c++) {
      const rec = this.records[c]!
      const gts = truth.filter((t) => t.classId === c)
      const dets = detections.filter((d) => d.classId === c).sort((a, b) => b.score - a.score)
      rec.gt += gts.length
      const ious = dets.map((d) => gts.map((g) => iou(d.box, g.box)))
      for (const d of dets) rec.scores.push(d.score)
      IOU_THRESHOLDS.forEach((thr, t) => {
        const used = new Array<boolean>(gts.length).fill(false)
        for (let k = 0; k < dets.length; k++) {
          let best = -1
          let bestIou = thr
          for (let j = 0; j < gts.length; j++) {
            const v = ious[k]![j]!
            if (!used[j] && v >= bestIou) {
              best = j
              bestIou = v
            }
          }
          if (best >= 0) used[best] = true
          rec.tp[t]!.push(best >= 0)
        }
      })
    }
  }

  /** Per class at IoU 0.5: true positives, detections and ground truth (precision and recall at the kept boxes). */
  counts50(): { tp: number; detections: number; gt: number }[] {
    return this.records.map((rec) => ({ tp: rec.tp[0]!.filter(Boolean).length, detections: rec.scores.length, gt: rec.gt }))
  }

  /** ap[c][t]; NaN for a class with no ground truth. */
  result(): number[][] {
    return this.records.map((rec) => {
      if (rec.gt === 0) return IOU_THRESHOLDS.map(() => Number.NaN)
      const order = rec.scores.map((_, i) => i).sort((a, b) => rec.scores[b]! - rec.scores[a]!)
      return rec.tp.map((tps) => ap101(order.map((i) => tps[i]!), rec.gt))
    })
  }

  /** Per class, the score threshold with the best F1 at IoU 0.5, and that F1. */
  bestF1(): { threshold: number; f1: number; precision: number; recall: number }[] {
    return this.records.map((rec) => {
      const order = rec.scores.map((_, i) => i).sort((a, b) => rec.scores[b]! - rec.scores[a]!)
      let tp = 0
      let best = { threshold: 0.5, f1: 0, precision: 0, recall: 0 }
      order.forEach((i, k) => {
        if (rec.tp[0]![i]) tp++
        const precision = tp / (k + 1)
        const recall = rec.gt ? tp / rec.gt : 0
        const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
        if (f1 > best.f1) best = { threshold: rec.scores[i]!, f1, precision, recall }
      })
      return best
    })
  }
}

function ap101(tpSorted: boolean[], nGt: number): number {
  const recall: number[] = []
  const precision: number[] = []
  let tp = 0
  tpSorted.forEach((isTp, k) => {
    if (isTp) tp++
    recall.push(tp / nGt)
    precision.push(tp / (k + 1))
  })
  // Precision envelope: the best precision at this recall or any higher one.
  for (let k = precision.length - 2; k >= 0; k--) precision[k] = Math.max(precision[k]!, precision[k + 1]!)
  let sum = 0
  let k = 0
  for (let r = 0; r <= 100; r++) {
    const target = r / 100
    while (k < recall.length && recall[k]! < target) k++
    sum += k < recall.length ? precision[k]! : 0
  }
  return sum / 101
}
