/**
 * A part: the unit a production line judges. One or more inspected frames make one part; the
 * part's verdict follows the line's rule over those frames. The same JSON in the HTTP reply
 * (`GET /api/v1/lines/:line/parts/:partId`), the MQTT `part` topic, webhooks and the store.
 */
import { z } from 'zod'
import { Id } from './ids.ts'
import { DetectionSchema } from './result.ts'

export { PART_ID_PATTERN, PartId, isPartId } from './part-id.ts'
import { PartId } from './part-id.ts'

/** How a station decides when a part starts and which frames belong to it. */
export const InspectionMode = z.enum(['continuous', 'presence', 'trigger'])
export type InspectionMode = z.infer<typeof InspectionMode>

/** How a part's frame verdicts become the part's verdict. `any`: fail if any frame fails. */
export const PartRule = z.enum(['any', 'majority'])
export type PartRule = z.infer<typeof PartRule>

export const PartRecordSchema = z.object({
  partId: PartId,
  line: Id,
  station: Id,
  /** The verdict so far while open; null only while no frame of the part has a result. */
  verdict: z.enum(['pass', 'fail']).nullable(),
  /** Frame ids, in capture order. */
  frames: z.array(Id),
  /** The detections that decided a failing verdict (empty for a pass). */
  defects: z.array(DetectionSchema.extend({ frameId: Id })),
  /** ms since the epoch. */
  openedAt: z.number().finite(),
  /** ms since the epoch; null while the part is open. */
  closedAt: z.number().finite().nullable(),
  /** Why it closed: its passage or burst ended, PART_IDLE_MS passed, or someone asked. */
  closedBy: z.enum(['passage', 'burst', 'idle', 'request']).nullable().optional(),
  /** Where the id came from. */
  idSource: z.enum(['trigger', 'barcode', 'sequence', 'http']).optional(),
})
export type PartRecord = z.infer<typeof PartRecordSchema>
