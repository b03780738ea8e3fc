/**
 * The inference engine: images in, detections out. `pool.ts` implements it with worker_threads
 * running onnxruntime-node; decode + letterbox (sharp) happen inside the workers.
 */
import type { Detection } from '../../shared/domain/detection.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'

export interface InferRequest {
  frameId: string
  /** Encoded image (JPEG, PNG, WebP). Its buffer is transferred to a worker: do not reuse it. */
  image: Uint8Array
  /** Model name; the default detector when absent. */
  model?: string
  /** Per-class score threshold overrides (a line's settings). */
  scoreThresholds?: Readonly<Record<string, number>>
}

export interface InferOutcome {
  detections: Detection[]
  width: number
  height: number
  model: { name: string; version: string }
  ep: string
  defectClasses: readonly string[]
  batchSize: number
  /** ms per stage inside the engine. */
  timings: { decode: number; infer: number; postprocess: number }
  /**
   * The request's image bytes, transferred back from the worker (zero-copy round trip) so the
   * caller can store the image of a failing frame without having copied every frame.
   */
  image?: Uint8Array
}

export type InferenceErrorCode =
  | 'undecodable' // not an image, or a broken one: retrying will not help
  | 'too_many_pixels'
  | 'unknown_model'
  | 'worker_crashed' // the worker died or hung; retrying may help
  | 'timeout'
  | 'closed'

export class InferenceError extends Error {
  override name = 'InferenceError'
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    /** True when the same frame will fail the same way again (a poison frame). */
    readonly permanent: boolean,
  ) {
    super(message)
  }
}

export interface LoadedModel {
  name: string
  version: string
  sha256: string
  task: 'detect' | 'prefilter'
  /** Execution provider actually in use. */
  ep: string
  manifest: DetectManifest
}

export interface EngineStatus {
  workers: number
  busyWorkers: number
  models: { name: string; version: string; ep: string }[]
  /** Why providers that were asked for did not load. */
  providerErrors: { ep: string; error: string }[]
  /** Median model time per frame over recent batches, ms. */
  inferMs: number
}

export interface InferenceEngine {
  infer(req: InferRequest): Promise<InferOutcome>
  status(): EngineStatus
  close(): Promise<void>
}
