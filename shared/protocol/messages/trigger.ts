import { z } from 'zod'
import { PartId } from '../../domain/part-id.ts'

/**
 * Server to a station in `trigger` mode: capture a burst of `frames` frames now, each carrying
 * `partId` (from `POST .../stations/:station/trigger`, MQTT or the PLC).
 */
export const TriggerMessageSchema = z.object({
  type: z.literal('trigger'),
  partId: PartId,
  frames: z.number().int().min(1).max(30),
})
export type TriggerMessage = z.infer<typeof TriggerMessageSchema>
