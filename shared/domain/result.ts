/**
 * The inspection result: the same JSON in the HTTP reply, the WebSocket message and the store.
 */
import { z } from 'zod'
import { Id } from './ids.ts'
import { PartId } from './part-id.ts'

export const STAGES = ['capture', 'prefilter', 'encode', 'upload', 'queue', 'decode', 'infer', 'postprocess', 'record', 'push'] as const
export type Stage = (typeof STAGES)[number]

export const DetectionSchema = z.object({
  classId: z.number().int().min(0),
  class: z.string().min(1).max(64),
  score: z.number().min(0).max(1),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
})

export const InspectionResultSchema = z.object({
  frameId: Id,
  line: Id,
  station: Id,
  /** ms since the epoch, from the capturing device's clock. */
  capturedAt: z.number().finite(),
  model: z.object({ name: z.string().min(1).max(64), version: z.string().min(1).max(64) }),
  inferredAt: z.enum(['server', 'browser']),
  /** Execution provider that actually ran the model (cpu, cuda, wasm, webgpu...). */
  ep: z.string().min(1).max(32),
  detections: z.array(DetectionSchema).max(1000),
  verdict: z.enum(['pass', 'fail']),
  /** Milliseconds spent in each stage the frame passed. */
  timings: z.record(z.string(), z.number().finite().min(0)),
  /** Set for frames of an upload job. */
  jobId: Id.optional(),
  /** The part this frame belongs to (trigger, printed code, sequence or `?part=`), when it has one. */
  partId: PartId.optional(),
  source: z.enum(['ws', 'http', 'upload', 'browser']).optional(),
  /** A frame the prefilter would have skipped, sent anyway to measure the prefilter. */
  audit: z.boolean().optional(),
  width: z.number().int().min(0).optional(),
  height: z.number().int().min(0).optional(),
  /** Why no detections exist, when inference failed for this frame (dead-lettered, undecodable). */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
})

export type DetectionRecord = z.infer<typeof DetectionSchema>
export type InspectionResult = z.infer<typeof InspectionResultSchema>
export type Verdict = InspectionResult['verdict']
