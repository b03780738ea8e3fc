import { z } from 'zod'

const Count = z.number().int().min(0).max(1_000_000)

/** Station: frames its prefilter skipped since its last report, by reason. */
export const SkipsMessageSchema = z.object({
  type: z.literal('skips'),
  counts: z.object({ unchanged: Count, blur: Count, exposure: Count, empty: Count }).partial(),
})
export type SkipsMessage = z.infer<typeof SkipsMessageSchema>
export type SkipReason = keyof SkipsMessage['counts']
export const SKIP_REASONS = ['unchanged', 'blur', 'exposure', 'empty'] as const satisfies readonly SkipReason[]
