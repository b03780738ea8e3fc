/**
 * The current and the candidate model measured on the line's own reviewed frames: per class,
 * precision and recall of the boxes each kept (IoU 0.5) and AP@0.5, with the reviews as ground
 * truth. The arithmetic is models/tools' (ApAccumulator), the same the offline evaluation uses.
 */
import type { DetectionRecord } from '../../shared/domain/result.ts'
import type { ReviewedComparison } from '../storage/candidates.ts'
import { ApAccumulator } from '../../models/tools/lib/average-precision.ts'

export interface ClassFigures {
  class: string
  /** Reviewed boxes of this class. */
  instances: number
  precision: number | null
  recall: number | null
  ap50: number | null
}

export interface ModelFigures {
  classes: ClassFigures[]
  /** Mean AP@0.5 over classes with reviewed boxes. */
  map50: number | null
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null)

function figures(classes: readonly string[], frames: readonly { detections: readonly DetectionRecord[]; truth: ReviewedComparison['truth'] }[]): ModelFigures {
  const acc = new ApAccumulator(classes.length)
  const id = (c: string) => classes.indexOf(c)
  for (const f of frames) {
    acc.addImage(
      f.detections.filter((d) => id(d.class) >= 0).map((d) => ({ classId: id(d.class), score: d.score, box: d.box })),
      f.truth.filter((t) => id(t.class) >= 0).map((t) => ({ classId: id(t.class), box: t.box })),
    )
  }
  const ap = acc.result()
  const counts = acc.counts50()
  const out = classes.map((c, i) => {
    const n = counts[i]!
    const a = ap[i]![0]!
    return { class: c, instances: n.gt, precision: ratio(n.tp, n.detections), recall: ratio(n.tp, n.gt), ap50: Number.isNaN(a) ? null : a }
  })
  const withGt = out.filter((c) => c.ap50 !== null)
  return { classes: out, map50: withGt.length ? withGt.reduce((s, c) => s + c.ap50!, 0) / withGt.length : null }
}

/** Per-class agreement of the two models (same-class boxes matched at IoU 0.5) and both models' figures. */
export function compareOnReviewed(classes: readonly string[], frames: readonly ReviewedComparison[]): { frames: number; current: ModelFigures; candidate: ModelFigures } {
  return {
    frames: frames.length,
    current: figures(classes, frames.map((f) => ({ detections: f.current.detections, truth: f.truth }))),
    candidate: figures(classes, frames.map((f) => ({ detections: f.candidate, truth: f.truth }))),
  }
}
