import { z } from 'zod'
import { LineSettingsSchema } from '../../domain/line-settings.ts'
import { LoadReportSchema } from '../../domain/load.ts'

export const ModelRefSchema = z.object({
  name: z.string(),
  version: z.string(),
  sha256: z.string(),
  /** Immutable URL of the .onnx (carries the sha256), cacheable forever. */
  url: z.string(),
  /** URL of the manifest JSON. */
  manifestUrl: z.string(),
})
export type ModelRef = z.infer<typeof ModelRefSchema>

/**
 * The size a station resizes its frames to before sending them (the serving detector's input,
 * aspect kept, no padding: shared/inference/letterbox.ts `uplinkSize`). Absent: send full frames.
 */
export const UplinkSizeSchema = z.object({ width: z.number().int().min(1).max(65535), height: z.number().int().min(1).max(65535) })
export type UplinkSize = z.infer<typeof UplinkSizeSchema>

/** Reply to `hello`: the station's credit, its line's settings and the models to run locally. */
export const WelcomeMessageSchema = z.object({
  type: z.literal('welcome'),
  id: z.string().max(64).optional(),
  /** Frames the station may have in flight: a frame holds credit from sending until its `result`, or a `busy`/`rejected` ack, comes back (an `accepted` ack does not free it). */
  credit: z.number().int().min(1),
  maxFrameBytes: z.number().int().min(1),
  settings: LineSettingsSchema,
  load: LoadReportSchema,
  models: z.object({ detector: ModelRefSchema, prefilter: ModelRefSchema.optional() }),
  uplink: UplinkSizeSchema.optional(),
})
export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>
