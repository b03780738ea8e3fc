import { z } from 'zod'
import { Id } from '../../domain/ids.ts'

/** First message on /ws/station: who is streaming. Kiosks send `subscribe` instead. */
export const HelloMessageSchema = z.object({
  type: z.literal('hello'),
  id: z.string().max(64).optional(),
  line: Id,
  station: Id,
  /** Bearer token, for clients that cannot set headers on a WebSocket upgrade. */
  token: z.string().max(200).optional(),
  client: z.object({ version: z.string().max(32).optional(), userAgent: z.string().max(300).optional() }).optional(),
})
export type HelloMessage = z.infer<typeof HelloMessageSchema>
