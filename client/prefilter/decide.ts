/**
 * What the prefilter model's numbers mean for one frame, with the line's thresholds
 * (shared/domain/line-settings.ts). Checked in this order:
 *
 *  1. unchanged: nothing new since the last frame sent, so the part was already inspected; says
 *     nothing to the operator (a stopped line is not their fault);
 *  2. exposure: too dark or too bright, with a hint; a dark frame also looks blurred, so exposure
 *     comes before blur, or the operator would be told to clean a lens that is fine;
 *  3. blur: with a hint (clean the lens, slow the line);
 *  4. empty: no part on the belt.
 */
import type { PrefilterThresholds } from '../../shared/domain/line-settings.ts'
import type { SkipReason } from '../../shared/protocol/messages/skips.ts'

/** The prefilter model's outputs, one number each (models/prefilter/manifest.json `output.outputs`). */
export interface PrefilterOutputs {
  change: number
  sharpness: number
  exposure_mean: number
  clipped_dark: number
  clipped_bright: number
  part_present: number
}
export const PREFILTER_OUTPUTS = ['change', 'sharpness', 'exposure_mean', 'clipped_dark', 'clipped_bright', 'part_present'] as const satisfies readonly (keyof PrefilterOutputs)[]

/** What the operator is asked to fix. */
export type OperatorHint = 'blur' | 'dark' | 'bright'

export type PrefilterVerdict = { skip: null } | { skip: SkipReason; hint?: OperatorHint }

/**
 * @param hasReference false until a first frame was sent: without a reference, "unchanged" has
 *   nothing to compare with and is not checked.
 */
export function decidePrefilter(o: PrefilterOutputs, t: PrefilterThresholds, hasReference: boolean): PrefilterVerdict {
  if (hasReference && o.change < t.change) return { skip: 'unchanged' }
  if (o.exposure_mean < t.exposureLow || o.clipped_dark > t.clipped) return { skip: 'exposure', hint: 'dark' }
  if (o.exposure_mean > t.exposureHigh || o.clipped_bright > t.clipped) return { skip: 'exposure', hint: 'bright' }
  if (o.sharpness < t.sharpness) return { skip: 'blur', hint: 'blur' }
  if (o.part_present < t.partPresent) return { skip: 'empty' }
  return { skip: null }
}
