import { z } from 'zod'
import { Id } from '../../domain/ids.ts'

/**
 * Evidence on demand. A station sends frames at its model's size (the model-size uplink) and keeps
 * the camera's full-resolution originals of its last frames in a small ring. When the line's
 * `evidence` setting wants a frame's original (`failing`: its verdict failed; `all`: every frame),
 * the server asks for it right after the frame's result:
 *
 *   server -> station  `evidence-request {frameId}`
 *   station -> server  a binary envelope of kind `evidence` (shared/protocol/envelope.ts): the
 *                      original JPEG, its size the camera frame's, at most `maxFrameBytes`;
 *                      or `evidence-missing {frameId, reason}` when it cannot (the frame left the
 *                      ring, the encoder failed, the JPEG is over the limit).
 *
 * The server answers an evidence envelope it did not ask for, or one sent twice, with an `error`
 * (`unexpected_evidence`); the frame's verdict never waits for any of it.
 */
export const EvidenceRequestMessageSchema = z.object({
  type: z.literal('evidence-request'),
  frameId: Id,
})
export type EvidenceRequestMessage = z.infer<typeof EvidenceRequestMessageSchema>

export const EVIDENCE_MISSING_REASONS = ['gone', 'encode_failed', 'too_large'] as const

export const EvidenceMissingMessageSchema = z.object({
  type: z.literal('evidence-missing'),
  frameId: Id,
  reason: z.enum(EVIDENCE_MISSING_REASONS),
})
export type EvidenceMissingMessage = z.infer<typeof EvidenceMissingMessageSchema>
