import { z } from 'zod'

/** The server changed how many frames a station may have in flight. */
export const CreditMessageSchema = z.object({ type: z.literal('credit'), credit: z.number().int().min(1) })
export type CreditMessage = z.infer<typeof CreditMessageSchema>
