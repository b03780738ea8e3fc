/**
 * A frame inferred in this browser, as the same InspectionResult the server produces: the model's
 * name and version from its manifest, detections from the shared decoder, the verdict from the
 * manifest's defect classes, and the station's own stage timings.
 */
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { BrowserResult } from '../outbox/types.ts'
import type { LocalDetection } from '../inference/api.ts'
import { withinRoi, type RoiRect } from '../../shared/domain/roi.ts'
import { verdictOf } from '../../shared/domain/verdict.ts'

export interface LocalFrame {
  frameId: string
  line: string
  station: string
  capturedAt: number
  width: number
  height: number
  audit: boolean
  /** capture, prefilter and encode (when a JPEG was made), ms. */
  timings: Record<string, number>
}

/**
 * `roi`: the station's region of interest; detections centred outside it are dropped and the
 * verdict is decided again without them, exactly as the server does (shared/domain/roi.ts).
 */
export function browserResult(frame: LocalFrame, manifest: DetectManifest, d: LocalDetection, roi?: readonly RoiRect[]): BrowserResult {
  const kept = roi ? withinRoi(d.detections, frame.width, frame.height, roi) : d.detections
  const r: BrowserResult = {
    frameId: frame.frameId,
    line: frame.line,
    station: frame.station,
    capturedAt: frame.capturedAt,
    model: { name: manifest.name, version: manifest.version },
    inferredAt: 'browser',
    ep: d.ep,
    detections: kept.map((x) => ({ classId: x.classId, class: x.class, score: Math.min(1, Math.max(0, x.score)), box: [x.box[0], x.box[1], x.box[2], x.box[3]] })),
    verdict: kept.length === d.detections.length ? d.verdict : verdictOf(kept, manifest.defectClasses),
    timings: { ...frame.timings, preprocess: d.timings.preprocess, infer: d.timings.infer, postprocess: d.timings.postprocess },
    source: 'browser',
    width: frame.width,
    height: frame.height,
  }
  if (frame.audit) r.audit = true
  return r
}

/** Everything the station spent on a locally inferred frame, ms. */
export function localMs(d: LocalDetection): number {
  return d.timings.preprocess + d.timings.infer + d.timings.postprocess
}
