import { z } from 'zod'

/** Station: a frame inferred on both sides; how many detections the two did not share at IoU 0.5. */
export const ShadowMessageSchema = z.object({
  type: z.literal('shadow'),
  frameId: z.string().max(64),
  ep: z.string().max(32),
  matched: z.number().int().min(0),
  unmatched: z.number().int().min(0),
})
export type ShadowMessage = z.infer<typeof ShadowMessageSchema>
