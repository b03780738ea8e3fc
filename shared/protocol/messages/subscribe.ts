import { z } from 'zod'
import { Id } from '../../domain/ids.ts'

/** Kiosk: receive every result of these lines. Replaces any earlier subscription. */
export const SubscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  id: z.string().max(64).optional(),
  lines: z.array(Id).min(1).max(64),
  token: z.string().max(200).optional(),
})
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>

export const SubscribedMessageSchema = z.object({
  type: z.literal('subscribed'),
  id: z.string().max(64).optional(),
  lines: z.array(z.string()),
})
export type SubscribedMessage = z.infer<typeof SubscribedMessageSchema>
