/**
 * Parts counted for the kiosk and the status page: the current shift (from the shift calendar)
 * and each recent hour. `yield` is passed / inspected (0..1), null before the first part. A part
 * counts once, by the hour it opened in, once it closed with a verdict.
 */
import { z } from 'zod'

const Count = z.object({ inspected: z.number().int().min(0), failed: z.number().int().min(0), yield: z.number().min(0).max(1).nullable() })
export type PartCount = z.infer<typeof Count>

export const PartCountsSchema = z.object({
  line: z.string(),
  /** The shift now running, by the calendar; null off shift or without a calendar. */
  shift: z.object({ name: z.string(), since: z.number() }).nullable(),
  /** Parts of the current shift (since its start); of the last 8 hours without a shift. */
  current: Count,
  /** Oldest first, start of each hour (ms since the epoch). */
  hours: z.array(Count.extend({ hour: z.number() })),
})
export type PartCounts = z.infer<typeof PartCountsSchema>

export function partCount(pass: number, fail: number): PartCount {
  const inspected = pass + fail
  return { inspected, failed: fail, yield: inspected === 0 ? null : pass / inspected }
}
