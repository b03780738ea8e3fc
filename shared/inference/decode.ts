/**
 * The one decoder: model output tensor -> detections in original image pixels. The server's
 * inference workers and the browser's worker both import this module; there is no second copy.
 */
import type { Detection } from '../domain/detection.ts'
import { detectOutputFormat, type FormatHints, type OutputLayout } from './formats.ts'
import { unletterboxBox, type Box, type Letterbox } from './letterbox.ts'
import { nms, type Candidate } from './nms.ts'

export interface OutputTensor {
  data: Float32Array
  dims: readonly number[]
}

export interface DecodeOptions {
  classes: readonly string[]
  /** One threshold for every class, or one per class id. */
  scoreThreshold: number | ArrayLike<number>
  iouThreshold: number
  /** Keep at most this many detections per image (Ultralytics' `max_det`). @default 300 */
  maxDetections?: number
  /** Candidates considered by NMS, best first (Ultralytics' `max_nms`). @default 30000 */
  maxCandidates?: number
  /** Maps boxes back to source pixels; without it boxes stay in model-input pixels. */
  letterbox?: Letterbox
  /** Which image of a batched output. @default 0 */
  batchIndex?: number
  /** Layout, when already known (decoding many frames of one model); detected otherwise. */
  layout?: OutputLayout
  hints?: FormatHints
  agnosticNms?: boolean
}

export function decodeDetections(output: OutputTensor, opts: DecodeOptions): Detection[] {
  const layout = opts.layout ?? detectOutputFormat(output.dims, { numClasses: opts.classes.length, ...opts.hints })
  const batch = output.dims[0] ?? 1
  const b = opts.batchIndex ?? 0
  if (b < 0 || b >= batch) throw new RangeError(`batch index ${b} outside output batch of ${batch}`)
  const perImage = output.data.length / batch
  const data = output.data.subarray(b * perImage, (b + 1) * perImage)
  const threshold = thresholdFn(opts.scoreThreshold)
  const maxDetections = opts.maxDetections ?? 300

  let kept: Candidate[]
  if (layout.format === 'end2end') {
    kept = end2endCandidates(data, layout.rows, threshold).slice(0, maxDetections)
  } else {
    const candidates =
      layout.format === 'yolov8'
        ? yolov8Candidates(data, layout.numClasses, layout.rows, threshold)
        : yolov5Candidates(data, layout.numClasses, layout.rows, threshold)
    const maxCandidates = opts.maxCandidates ?? 30000
    if (candidates.length > maxCandidates) {
      candidates.sort((p, q) => q.score - p.score)
      candidates.length = maxCandidates
    }
    kept = nms(candidates, opts.iouThreshold, maxDetections, opts.agnosticNms)
  }
  return kept.map((c) => ({
    classId: c.classId,
    class: opts.classes[c.classId] ?? `class${c.classId}`,
    score: c.score,
    box: opts.letterbox ? unletterboxBox(c.box, opts.letterbox) : c.box,
  }))
}

function thresholdFn(t: number | ArrayLike<number>): (classId: number) => number {
  if (typeof t === 'number') return () => t
  return (classId) => t[classId] ?? Number.POSITIVE_INFINITY
}

function xywhToBox(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
}

/** [4+nc, A], channel-major: scan class rows in order so memory is read sequentially. */
function yolov8Candidates(data: Float32Array, nc: number, anchors: number, threshold: (c: number) => number): Candidate[] {
  const best = new Float32Array(anchors).fill(-1)
  const bestClass = new Int32Array(anchors)
  for (let c = 0; c < nc; c++) {
    const row = (4 + c) * anchors
    for (let a = 0; a < anchors; a++) {
      const s = data[row + a]!
      if (s > best[a]!) {
        best[a] = s
        bestClass[a] = c
      }
    }
  }
  const out: Candidate[] = []
  for (let a = 0; a < anchors; a++) {
    const classId = bestClass[a]!
    const score = best[a]!
    if (score < threshold(classId)) continue
    out.push({ classId, score, box: xywhToBox(data[a]!, data[anchors + a]!, data[2 * anchors + a]!, data[3 * anchors + a]!) })
  }
  return out
}

/** [A, 5+nc], anchor-major; score = objectness x class probability, as YOLOv5's NMS does. */
function yolov5Candidates(data: Float32Array, nc: number, anchors: number, threshold: (c: number) => number): Candidate[] {
  const stride = 5 + nc
  const out: Candidate[] = []
  for (let a = 0; a < anchors; a++) {
    const o = a * stride
    const obj = data[o + 4]!
    let classId = 0
    let cls = -1
    for (let c = 0; c < nc; c++) {
      const s = data[o + 5 + c]!
      if (s > cls) {
        cls = s
        classId = c
      }
    }
    const score = obj * cls
    if (score < threshold(classId)) continue
    out.push({ classId, score, box: xywhToBox(data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!) })
  }
  return out
}

/** [K, 6] rows of x1, y1, x2, y2, score, class, best first; padding rows have score 0. */
function end2endCandidates(data: Float32Array, rows: number, threshold: (c: number) => number): Candidate[] {
  const out: Candidate[] = []
  for (let k = 0; k < rows; k++) {
    const o = k * 6
    const score = data[o + 4]!
    const classId = Math.round(data[o + 5]!)
    if (!(score >= threshold(classId)) || classId < 0) continue
    out.push({ classId, score, box: [data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!] })
  }
  return out.sort((p, q) => q.score - p.score)
}
