/**
 * The one check a candidate model passes before it is put on a line, whichever route puts it
 * there (`PUT /api/v1/admin/lines/:line/candidate` or the line-settings PUT): it must be a
 * detector in the models folder, not the line's model itself, and have the line's model's classes
 * in the same order, since the two are compared box by box, class by class.
 */
import type { DetectManifest, ModelManifest } from '../../shared/domain/manifest.ts'
import { CodedError } from '../errors.ts'

export type CandidateRefusal = 'unknown_model' | 'same_model' | 'classes_differ'

/** The manifest of a loaded detector named `name`, or a coded `unknown_model` error. */
export function detectorManifest(lookup: (name: string) => { manifest: ModelManifest } | undefined, name: string): DetectManifest {
  const m = lookup(name)?.manifest
  if (!m || m.task !== 'detect') throw new CodedError<CandidateRefusal>('unknown_model', `no detector named ${name.slice(0, 64)} in the models folder (add one with models:add or POST /api/v1/admin/models)`)
  return m
}

/** Throws a coded error when `candidate` cannot be run in shadow beside `lineModel`. */
export function checkCandidate(lookup: (name: string) => { manifest: ModelManifest } | undefined, lineModel: string, candidate: string): void {
  const current = detectorManifest(lookup, lineModel)
  const cand = detectorManifest(lookup, candidate)
  if (cand.name === current.name) throw new CodedError<CandidateRefusal>('same_model', `${cand.name} is already the line's model`)
  if (cand.classes.join('\n') !== current.classes.join('\n')) {
    throw new CodedError<CandidateRefusal>('classes_differ', `${cand.name}'s classes (${cand.classes.join(', ')}) are not the line's model's (${current.classes.join(', ')}); the two cannot be compared box by box`)
  }
}
