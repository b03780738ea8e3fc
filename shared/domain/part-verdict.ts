/**
 * A part's verdict from its frames' verdicts, by the line's rule:
 * - `any` (the default): the part fails when any of its frames fails. A defect seen in one view
 *   of the part is a defect of the part.
 * - `majority`: the part fails when more than half of its frames fail; a single spurious frame
 *   (glare, motion) does not scrap a part seen clean from the other views.
 * A frame nobody could inspect (an error result) counts as failing: it was not seen good.
 */
import type { PartRecord, PartRule } from './part.ts'
import type { InspectionResult } from './result.ts'

export type PartFrame = Pick<InspectionResult, 'frameId' | 'verdict' | 'detections' | 'capturedAt'> & { error?: unknown; model?: { name: string } }

/**
 * `isDefect` says which detections are defects (a frame's model knows its defect classes);
 * without it every detection of a failing frame is reported.
 */
export function partVerdict(
  frames: readonly PartFrame[],
  rule: PartRule,
  isDefect: (frame: PartFrame, className: string) => boolean = () => true,
): Pick<PartRecord, 'verdict' | 'defects'> {
  if (frames.length === 0) return { verdict: null, defects: [] }
  const failing = frames.filter((f) => f.verdict === 'fail')
  const fails = rule === 'any' ? failing.length > 0 : failing.length * 2 > frames.length
  if (!fails) return { verdict: 'pass', defects: [] }
  const defects = failing.flatMap((f) => f.detections.filter((d) => isDefect(f, d.class)).map((d) => ({ ...d, frameId: f.frameId })))
  return { verdict: 'fail', defects }
}
