import { z } from 'zod'

/** Errors cross the wire as data, never as thrown exceptions. */
export const WireErrorSchema = z.object({ code: z.string().max(64), message: z.string().max(2000) })
export type WireError = z.infer<typeof WireErrorSchema>

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  /** Echoes the id of the message that caused it, when it had one. */
  id: z.string().max(64).optional(),
  frameId: z.string().max(64).optional(),
  error: WireErrorSchema,
})
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>
