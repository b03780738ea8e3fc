import { z } from 'zod'
import { InspectionResultSchema } from '../../domain/result.ts'
import { LoadReportSchema } from '../../domain/load.ts'

/** A result, to the station that sent the frame and to every kiosk subscribed to its line. */
export const ResultMessageSchema = z.object({
  type: z.literal('result'),
  result: InspectionResultSchema,
  load: LoadReportSchema.optional(),
})
export type ResultMessage = z.infer<typeof ResultMessageSchema>
