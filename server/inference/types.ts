/**
 * The inference engine: images in, detections out. `pool.ts` implements it with worker_threads
 * running onnxruntime-node; decode + letterbox (sharp) happen inside the workers.
 */
import type { Detection } from '../../shared/domain/detection.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'

/**
 * FULL_FRAME_DECODER: how a JPEG larger than the model input is decoded and shrunk (preprocess.ts).
 * `turbojpeg` takes a plain JPEG a whole k times the letterbox's size to TurboJPEG and
 * linear-shrink.ts; `libvips` (the default), and every other frame, to libvips.
 */
export type FullFrameDecoder = 'libvips' | 'turbojpeg'

export interface InferRequest {
  frameId: string
  /**
   * Encoded image (JPEG, PNG, WebP). When the view spans its whole ArrayBuffer, that buffer is
   * transferred to a worker (zero-copy, and detached here: do not reuse it); a view into a larger
   * buffer is copied once instead, so its neighbours stay intact.
   */
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
  /**
   * A failing frame's JPEG thumbnail (by the model's own defect classes), made in the worker from
   * the pixels it decoded; absent for passing frames (the store makes one if it keeps those).
   */
  thumbnail?: Uint8Array
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

// --- Extensions for the engine's owners (gateway admin API, metrics, autoscaler) ---

/** Why a model version was refused at load; `message` names the file. */
export type ModelLoadErrorCode =
  | 'bad_manifest' // missing, unreadable or invalid manifest.json
  | 'missing_file' // the .onnx the manifest names is not there
  | 'sha_mismatch'
  | 'version_conflict' // same name and version as the running one, different bytes
  | 'manifest_mismatch' // the model's input is not what the manifest says
  | 'not_a_detector' // the output is not a detection format the shared decoder knows
  | 'provider_unavailable' // no execution provider asked for could load it (INFERENCE_EPS)
  | 'load_failed' // onnxruntime could not load it at all

export class ModelLoadError extends Error {
  override name = 'ModelLoadError'
  constructor(
    readonly code: ModelLoadErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** A pino logger fits. */
export interface EngineLog {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** Callbacks for metrics; all optional, all synchronous and cheap. */
export interface EngineHooks {
  /** After every model call: feeds `linesight_inference_batch_size`. */
  onBatch?(e: { model: string; size: number; inferMs: number }): void
  /** A worker died or hung and a replacement was scheduled: feeds `linesight_worker_restarts_total{reason}`. */
  onWorkerRestart?(e: { reason: 'timeout' | 'crashed'; workerId: number; delayMs: number; message: string }): void
  /** A model version went live (startup, reload or file watcher). */
  onModelLoaded?(m: LoadedModel): void
  /** A model version was refused; the running version, if any, stays. */
  onModelRejected?(e: { name: string; error: ModelLoadError }): void
}

export interface ManagedInferenceEngine extends InferenceEngine {
  /** Loads `models/<name>/` again; resolves with the version now serving (unchanged if the files did not change). */
  reload(name: string): Promise<LoadedModel>
  /** Grows or shrinks the worker pool live; a removed worker finishes its batch first. */
  setWorkers(n: number): Promise<void>
  /** Model versions serving now. */
  models(): LoadedModel[]
}
