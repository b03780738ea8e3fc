import { z } from 'zod'

export const BackendCandidateSchema = z.object({
  ep: z.string().max(32),
  ok: z.boolean(),
  prefilterMs: z.number().min(0).optional(),
  detectorMs: z.number().min(0).optional(),
  error: z.string().max(500).optional(),
})
export type BackendCandidate = z.infer<typeof BackendCandidateSchema>

/** Station: the backend its worker measured and chose, with every candidate's outcome. */
export const BackendMessageSchema = z.object({
  type: z.literal('backend'),
  ep: z.string().max(32),
  candidates: z.array(BackendCandidateSchema).max(8),
})
export type BackendMessage = z.infer<typeof BackendMessageSchema>
