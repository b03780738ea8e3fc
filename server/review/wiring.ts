/**
 * Connects the review triggers to the result path: every newly recorded frame is checked, and
 * one that needs a person is queued in the background (the verdict is never held up for it).
 */
import type { ModelCatalog } from '../models/catalog.ts'
import type { Recorder } from '../results/recorder.ts'
import type { LineSettingsService } from '../lines/line-settings.ts'
import type { ReviewService } from './service.ts'
import { reviewReasonsFor } from './triggers.ts'

/** Used for a class the model's manifest gives no threshold for, as the engine does. */
const FALLBACK_THRESHOLD = 0.25

export function watchForReview(deps: { recorder: Recorder; review: ReviewService; settings: LineSettingsService; models: ModelCatalog; margin: number }): () => void {
  return deps.recorder.onNew((r) => {
    const overrides = deps.settings.get(r.line).scoreThresholds
    const m = deps.models.get(r.model.name)?.manifest
    const manifestScores = m?.task === 'detect' ? m.thresholds.score : {}
    const reasons = reviewReasonsFor(r, { margin: deps.margin, threshold: (c) => overrides[c] ?? manifestScores[c] ?? FALLBACK_THRESHOLD })
    for (const reason of reasons) deps.review.enqueueInBackground(r.frameId, r.line, reason)
    return Promise.resolve()
  })
}
