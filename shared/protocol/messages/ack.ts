import { z } from 'zod'
import { WireErrorSchema } from './error.ts'

/**
 * What happened to a frame or a browser result the station sent:
 *  - accepted: queued (and confirmed by the broker); a `result` follows;
 *  - busy: refused because the server is overloaded or the station is over its credit; send later
 *    or infer locally;
 *  - rejected: refused for good (malformed, too large); `error` says why;
 *  - recorded: a browser-inferred result was stored (the outbox may drop it).
 */
export const AckMessageSchema = z.object({
  type: z.literal('ack'),
  id: z.string().max(64).optional(),
  frameId: z.string().max(64),
  status: z.enum(['accepted', 'busy', 'rejected', 'recorded']),
  error: WireErrorSchema.optional(),
})
export type AckMessage = z.infer<typeof AckMessageSchema>
