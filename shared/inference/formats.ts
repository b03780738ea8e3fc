/**
 * Working out what a detection model's output tensor means, from its shape and metadata.
 *
 * Three layouts exist in the wild for Ultralytics-family exports:
 *  - yolov8:  [N, 4+nc, A]  cx, cy, w, h then one score per class (YOLOv8, YOLO11)
 *  - yolov5:  [N, A, 5+nc]  cx, cy, w, h, objectness, then class scores
 *  - end2end: [N, K, 6]     x1, y1, x2, y2, score, class, already NMS-ed (YOLOv10, YOLO26)
 */
export type OutputFormat = 'yolov8' | 'yolov5' | 'end2end'

export interface FormatHints {
  /** Number of classes, when known from metadata (`names`) or a manifest. */
  numClasses?: number
  /** True when the metadata says the export is NMS-free. */
  end2end?: boolean
}

export interface OutputLayout {
  format: OutputFormat
  numClasses: number
  /** Anchors (yolov8, yolov5) or maximum detections (end2end). */
  rows: number
}

export class UnknownOutputFormatError extends Error {
  override name = 'UnknownOutputFormatError'
}

/** End-to-end exports keep a few hundred boxes; anchor grids have thousands of cells. */
const MAX_END2END_ROWS = 1000

export function detectOutputFormat(dims: readonly number[], hints: FormatHints = {}, outputName = 'output0'): OutputLayout {
  const shape = `[${dims.join(', ')}]`
  const fail = (why: string): never => {
    throw new UnknownOutputFormatError(
      `unknown detection output format: "${outputName}" has shape ${shape} (${why}); expected ` +
        '[N, 4+nc, A] (YOLOv8/YOLO11), [N, A, 5+nc] (YOLOv5) or [N, K, 6] (end-to-end)',
    )
  }
  if (dims.length !== 3) fail(`rank ${dims.length}, not 3`)
  const [, a, b] = dims as [number, number, number]
  if (!(a > 0 && b > 0)) fail('dimensions 1 and 2 must be known and positive')
  const nc = hints.numClasses

  if (b === 6 && (hints.end2end === true || (hints.end2end !== false && a <= MAX_END2END_ROWS))) {
    return { format: 'end2end', numClasses: nc ?? 0, rows: a }
  }
  if (nc !== undefined) {
    if (a === 4 + nc && b > a) return { format: 'yolov8', numClasses: nc, rows: b }
    if (b === 5 + nc && a > b) return { format: 'yolov5', numClasses: nc, rows: a }
    return fail(`does not fit ${nc} classes`)
  }
  if (a < b && a > 4) return { format: 'yolov8', numClasses: a - 4, rows: b }
  if (a > b && b > 5) return { format: 'yolov5', numClasses: b - 5, rows: a }
  return fail('cannot tell anchors from channels')
}
