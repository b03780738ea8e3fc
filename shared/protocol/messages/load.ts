import { z } from 'zod'
import { LoadReportSchema } from '../../domain/load.ts'

/** Published to every station every 500 ms. */
export const LoadMessageSchema = z.object({ type: z.literal('load'), load: LoadReportSchema })
export type LoadMessage = z.infer<typeof LoadMessageSchema>
