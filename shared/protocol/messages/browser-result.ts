import { z } from 'zod'
import { InspectionResultSchema } from '../../domain/result.ts'

/**
 * Station: a frame it inferred itself, to be recorded. When `hasImage` is true the JPEG follows as
 * a binary envelope of kind `resultImage` with the same frame id. Answered by an `ack` with status
 * `recorded` (idempotent by frame id: replaying the outbox never makes a second record).
 */
export const BrowserResultMessageSchema = z.object({
  type: z.literal('browser-result'),
  id: z.string().max(64).optional(),
  result: InspectionResultSchema.extend({ inferredAt: z.literal('browser') }),
  hasImage: z.boolean(),
})
export type BrowserResultMessage = z.infer<typeof BrowserResultMessageSchema>
