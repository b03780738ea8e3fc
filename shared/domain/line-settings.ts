import { z } from 'zod'
import { InspectionSettingsSchema } from './inspection.ts'
import { RoutingPolicy } from './load.ts'

/** Prefilter skip thresholds; a frame is skipped when any check says so. */
export const PrefilterThresholdsSchema = z.object({
  /** Below this mean gray difference from the last sent frame, the frame is "unchanged". */
  change: z.number().min(0).max(1),
  /** Below this variance of the Laplacian, the frame is "blur". */
  sharpness: z.number().min(0),
  exposureLow: z.number().min(0).max(1),
  exposureHigh: z.number().min(0).max(1),
  /** Above this fraction of clipped pixels (either end), the frame is "exposure". */
  clipped: z.number().min(0).max(1),
  /** Below this part-present score, the frame is "empty". */
  partPresent: z.number().min(0).max(1),
})
export type PrefilterThresholds = z.infer<typeof PrefilterThresholdsSchema>

/**
 * Which frames' full-resolution originals the server asks the line's stations for (evidence on
 * demand, shared/protocol/messages/evidence.ts): none, the failing ones, or every frame.
 */
export const EVIDENCE_MODES = ['never', 'failing', 'all'] as const
export const EvidenceMode = z.enum(EVIDENCE_MODES)
export type EvidenceMode = z.infer<typeof EvidenceMode>
export const DEFAULT_EVIDENCE: EvidenceMode = 'failing'

/** Settings of one line, pushed to its stations. */
export const LineSettingsSchema = z.object({
  line: z.string(),
  model: z.string(),
  policy: RoutingPolicy,
  prefilter: PrefilterThresholdsSchema.extend({ enabled: z.boolean() }),
  /** Fraction of skipped frames still sent, flagged audit. */
  auditFraction: z.number().min(0).max(1),
  /** Fraction of frames inferred on both sides to measure disagreement. */
  shadowFraction: z.number().min(0).max(1),
  /** Per-class score threshold overrides. */
  scoreThresholds: z.record(z.string(), z.number().min(0).max(1)),
  /** Frames per second the station captures. */
  captureFps: z.number().min(0.2).max(60),
  /** A model run in shadow on a share of the line's frames, to compare before promoting it. */
  candidate: z.object({ model: z.string().min(1).max(64), share: z.number().gt(0).max(1) }).optional(),
  /** The model before the last promotion, for a one-step rollback. */
  previousModel: z.string().min(1).max(64).optional(),
  /** Parts: the inspection mode per station and the part rule; absent means every station is `continuous`. */
  inspection: InspectionSettingsSchema.optional(),
  /** Evidence on demand (EVIDENCE_MODES); absent means `failing`. */
  evidence: EvidenceMode.optional(),
})
export type LineSettings = z.infer<typeof LineSettingsSchema>

/** The line's evidence mode, its default filled in. */
export function evidenceMode(s: Pick<LineSettings, 'evidence'>): EvidenceMode {
  return s.evidence ?? DEFAULT_EVIDENCE
}
