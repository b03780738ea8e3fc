import { z } from 'zod'
import { Id } from '../../domain/ids.ts'
import { PartId } from '../../domain/part-id.ts'

/**
 * Station to server: the station sent every frame of a part (its presence passage ended, or its
 * trigger burst was captured). `frames` are the ids of the frames it sent for the part and the
 * server accepted (sent to the server or inferred in the browser); the part closes once each has a
 * result, or after PART_IDLE_MS. At most 100 frames per part.
 */
export const PartEndMessageSchema = z.object({
  type: z.literal('part-end'),
  id: z.string().max(64).optional(),
  partId: PartId,
  frames: z.array(Id).max(100),
  reason: z.enum(['passage', 'burst']),
  /** Where the station got the id from. */
  idSource: z.enum(['trigger', 'barcode', 'sequence']),
})
export type PartEndMessage = z.infer<typeof PartEndMessageSchema>
