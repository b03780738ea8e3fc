/**
 * What the benchmark's loop workers are told and what they answer. Each worker thread stands
 * where an engine worker stands (its own onnxruntime session, the same intra-op threads), so a
 * raw or decode-only figure compares like with like with the engine.
 */
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { FullFrameDecoder } from '../../server/inference/types.ts'

/**
 * - model: `session.run` on a ready tensor, `batch` frames per call (the raw limit);
 * - decode: JPEG decode + letterbox into the tensor, nothing else (the decode lower bound);
 * - pipeline: decode + letterbox + model + decode/NMS per frame, back to back, without the
 *   engine's pool, messages or transfers (what the hardware allows for the engine's work).
 */
export type LoopMode = 'model' | 'decode' | 'pipeline'

export interface LoopInit {
  manifest: DetectManifest
  modelBytes: Uint8Array
  threads: number
  /** Largest batch any task will run. */
  maxBatch: number
  /** JPEG frames per frame set; a task names the set it uses. */
  frameSets: Uint8Array[][]
  maxPixels: number
  /** The servers' FULL_FRAME_DECODER, so the decode stage (and the bound) decodes as they do. */
  fullFrameDecoder: FullFrameDecoder
}

export type ToLoop =
  /** Prepare a task (fill the tensor, one untimed step); answered `ready`. */
  | { type: 'task'; mode: LoopMode; batch: number; frameSet: number }
  /** Run the prepared task; count what completes in [startAt, endAt] (epoch ms); answered `done`. */
  | { type: 'go'; startAt: number; endAt: number }
  | { type: 'close' }

export type FromLoop =
  | { type: 'ready' }
  | {
      type: 'done'
      /** Frames completed inside the window (a model call of batch b counts b). */
      frames: number
      /** ms per operation (one call, or one frame) completed inside the window. */
      latencies: Float64Array
    }
  | { type: 'failed'; message: string }
