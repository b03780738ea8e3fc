/**
 * What the pool and its worker threads say to each other. Tagged by `type`; every reply echoes the
 * request's `id`; errors cross as data `{code, message, permanent}` (onnxruntime-web's
 * proxy-messages.ts and comlink's protocol.ts do the same).
 */
import type { Detection } from '../../shared/domain/detection.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { ThreadPriority } from './thread-priority.ts'
import type { FullFrameDecoder, InferenceErrorCode, ModelLoadErrorCode } from './types.ts'

/** A model version inside a worker: name@version, unique because the registry refuses a reused version. */
export type ModelKey = string

export interface WireError {
  code: InferenceErrorCode | ModelLoadErrorCode
  message: string
  permanent: boolean
}

export interface ProviderFailure {
  ep: string
  error: string
}

// --- pool -> worker ---

export interface LoadRequest {
  type: 'load'
  id: number
  key: ModelKey
  manifest: DetectManifest
  /** The verified file contents; each worker gets its own copy (onnxruntime cannot read a SharedArrayBuffer). */
  bytes: Uint8Array
  eps: readonly string[]
  epFallback: boolean
  /** Largest batch the pool will send; the worker sizes its reusable input tensor for it. */
  maxBatch: number
}

export interface UnloadRequest {
  type: 'unload'
  id: number
  key: ModelKey
}

export interface FrameInput {
  frameId: string
  /** Transferred, never copied: the caller gave up its buffer. */
  image: Uint8Array
  scoreThresholds?: Readonly<Record<string, number>>
}

export interface InferRequest {
  type: 'infer'
  id: number
  key: ModelKey
  frames: FrameInput[]
}

export interface CloseRequest {
  type: 'close'
  id: number
}

export type ToWorker = LoadRequest | UnloadRequest | InferRequest | CloseRequest

// --- worker -> pool ---

export interface ReadyMessage {
  type: 'ready'
  id: 0
  /** A background worker's thread id, nice value and policy (SCHED_IDLE or not), or why it could not lower them. */
  priority?: ThreadPriority
}

export interface LoadedReply {
  type: 'loaded'
  id: number
  key: ModelKey
  ep: string
  providerErrors: ProviderFailure[]
  /** 1 when the model's batch axis is fixed at 1; otherwise the pool's maxBatch. */
  maxBatch: number
}

export interface FrameOk {
  ok: true
  detections: Detection[]
  width: number
  height: number
  /** This frame's decode + letterbox, ms (frames of a batch decode concurrently). */
  decodeMs: number
  /** This frame's output decode + NMS, ms. */
  postprocessMs: number
  /** The encoded image, transferred back (not copied) so the caller can keep a failing frame's picture. */
  image?: Uint8Array
  /** A failing frame's JPEG thumbnail, made from the pixels already decoded (see preprocess.ts encodeThumbnail). */
  thumbnail?: Uint8Array
}

export interface FrameFailed {
  ok: false
  error: WireError
}

export interface InferredReply {
  type: 'inferred'
  id: number
  /** One per request frame, same order. */
  frames: (FrameOk | FrameFailed)[]
  /** Frames that reached the model (undecodable ones did not). */
  batchSize: number
  /** The model call for the whole batch, ms. */
  inferMs: number
}

export interface DoneReply {
  type: 'unloaded' | 'closed'
  id: number
}

export interface ErrorReply {
  type: 'error'
  id: number
  error: WireError
}

export type FromWorker = ReadyMessage | LoadedReply | InferredReply | DoneReply | ErrorReply

/** What a worker is started with (workerData). */
export interface WorkerInit {
  threads: number
  maxPixels: number
  /** FULL_FRAME_DECODER (types.ts). @default 'libvips' */
  fullFrameDecoder?: FullFrameDecoder | undefined
  /**
   * A background worker (candidate models in shadow): its thread, and every thread onnxruntime
   * starts from it, run at the lowest CPU priority; it makes no thumbnails (nobody keeps a
   * candidate's picture) and leaves libvips' process-wide settings to the verdict workers.
   */
  background?: boolean
  /** Test-only behaviour; the pool passes it only when given programmatically (see PoolOptions.testHooks). */
  testHooks?: TestHooks
}

export interface TestHooks {
  /** A worker that receives this frame id blocks its thread forever, as a wedged native call would. */
  hangOnFrameId?: string
  /** A worker that receives this frame id exits at once, as a crash would. */
  crashOnFrameId?: string
}
