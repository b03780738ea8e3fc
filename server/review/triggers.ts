/**
 * Which recorded frames need a person without anyone asking: a detection that scored close to
 * its class threshold, and an audit frame (one the prefilter would have skipped) whose verdict
 * is fail. Shadow and candidate disagreements are queued where they are measured
 * (server/ingest/station-session.ts, server/candidates/).
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { ReviewReason } from '../../shared/domain/review.ts'

export interface TriggerContext {
  /** The score threshold the frame's detections were kept at, per class name. */
  threshold(cls: string): number
  /** How far above its threshold a detection still counts as near it (REVIEW_NEAR_THRESHOLD_MARGIN). */
  margin: number
}

export function reviewReasonsFor(r: InspectionResult, ctx: TriggerContext): ReviewReason[] {
  const reasons: ReviewReason[] = []
  if (r.error) return reasons // nothing was inferred: there are no boxes to look at
  if (ctx.margin > 0 && r.detections.some((d) => d.score < ctx.threshold(d.class) + ctx.margin)) reasons.push('near_threshold')
  if (r.audit && r.verdict === 'fail') reasons.push('audit')
  return reasons
}
