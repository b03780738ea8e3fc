/**
 * The inference worker's API, shared by the worker and the main thread. Calls answer with values:
 * an error crosses the worker boundary as `{ok: false, error: {code, message}}`, never as a throw.
 *
 * A frame's pixels go to the worker once (the ImageBitmap is transferred) and stay there while the
 * main thread decides what to do with it: `admit` holds it and runs the prefilter, then `finish`
 * encodes it for the server and/or runs the detector on it, or `release` drops it.
 */
import type { DetectManifest, PrefilterManifest } from '../../shared/domain/manifest.ts'
import type { Detection } from '../../shared/domain/detection.ts'
import type { BackendCandidate } from '../../shared/protocol/messages/backend.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { ModelRef } from '../../shared/protocol/messages/welcome.ts'
import type { PrefilterOutputs } from '../prefilter/decide.ts'

export type EncodeMime = 'image/jpeg' | 'image/webp'

export interface EncodeOptions {
  mime: EncodeMime
  /** 0..1, as for `convertToBlob`. */
  quality: number
  /**
   * The serving model's input (welcome/settings `uplink`): the frame is resized on the GPU to fit
   * it, aspect kept, before encoding (shared/inference/letterbox.ts `uplinkSize`). Absent: full size.
   */
  fit?: { width: number; height: number }
}

export interface EncodedFrame {
  /** Transferred back to the caller, not copied. */
  bytes: Uint8Array
  mime: EncodeMime
  /** Of the encoded image. */
  width: number
  height: number
  /** The camera frame's size, when the image was resized from it (`EncodeOptions.fit`). */
  from?: { width: number; height: number }
  encodeMs: number
}

export type WorkerReply<T> = { ok: true; value: T } | { ok: false; error: WireError }

/** Execution providers the worker tries, in order of preference when they measure alike. */
export const CANDIDATE_EPS = ['webgpu', 'wasm'] as const
export type LocalEp = (typeof CANDIDATE_EPS)[number]

export interface InitOptions {
  models: { detector: ModelRef; prefilter?: ModelRef }
  /** @default CANDIDATE_EPS */
  eps?: readonly LocalEp[]
  /** Timed runs per model and backend after the warm-up run; the median is kept. */
  runs: number
  /** A backend stops timing a model after this much time (the first timed run always completes), ms. */
  budgetMs: number
}

/** One backend's outcome: what the `backend` message carries, plus what the details panel shows. */
export interface CandidateReport extends BackendCandidate {
  ep: LocalEp
  /** Timed runs the medians come from. */
  runs?: number
  /** The first (untimed) runs, which compile shaders and allocate: what a slow start costs, ms. */
  prefilterWarmupMs?: number
  detectorWarmupMs?: number
  /** The WebGPU adapter, e.g. "google swiftshader". */
  adapter?: string
  /** How long setting this backend up (sessions, warm-up, timing) took, ms. */
  setupMs?: number
}

export interface ModelLoad {
  name: string
  version: string
  bytes: number
  fromCache: boolean
}

export interface InitReport {
  /** The backend in use; null when none initialised (every candidate says why). */
  ep: LocalEp | null
  candidates: CandidateReport[]
  detector: DetectManifest
  /** Null when the line has no prefilter model, or it failed to load (`prefilterError`). */
  prefilter: PrefilterManifest | null
  prefilterError?: WireError
  models: ModelLoad[]
  runtimeFromCache: boolean
  loadMs: number
  /** Where the load time went: the runtime binary, the models (cache or download, sha256), the backends, ms. */
  phasesMs: { runtime: number; models: number; backends: number }
}

export interface PrefilterRun {
  outputs: PrefilterOutputs
  /** False until a frame was kept as the reference: `change` then compares with nothing. */
  hasReference: boolean
  /** Downscale and model, ms. */
  ms: number
}

export interface Admitted {
  width: number
  height: number
  prefilter?: PrefilterRun
}

export interface FinishOptions {
  /** JPEG for the server (`always`), for a failing part's record (`if-fail`), or none. */
  encode: 'always' | 'if-fail' | 'never'
  encodeOptions: EncodeOptions
  detect: boolean
  /** Keep this frame as the prefilter's reference ("the last frame sent"). */
  reference: boolean
  /** Per-class score thresholds of the line (LineSettings.scoreThresholds). */
  scoreOverrides: Readonly<Record<string, number>>
  /** A frame resized for the uplink keeps its camera original in the evidence ring (evidence-ring.ts). */
  keepOriginal?: boolean
}

export interface LocalDetection {
  detections: Detection[]
  verdict: 'pass' | 'fail'
  ep: LocalEp
  /** Letterbox (readback and resize), model, and decoding, ms. */
  timings: { preprocess: number; infer: number; postprocess: number }
}

export interface Finished {
  encoded?: EncodedFrame
  detection?: LocalDetection
}

export interface InferenceWorkerApi {
  /** Loads the models (cache, sha256), measures every candidate backend and keeps the fastest. */
  init(options: InitOptions): Promise<WorkerReply<InitReport>>
  /** Holds a frame (the bitmap is transferred in) and runs the prefilter on it when asked and loaded. */
  admit(frameId: string, bitmap: ImageBitmap, options: { prefilter: boolean }): Promise<WorkerReply<Admitted>>
  /** Encodes and/or infers a held frame, then releases it. */
  finish(frameId: string, options: FinishOptions): Promise<WorkerReply<Finished>>
  /** Drops a held frame (skipped, or no credit to send it). */
  release(frameId: string): void
  /** The first barcode / QR / DataMatrix in a held frame (its text), or null (client/inference/codes.ts). */
  readCode(frameId: string): Promise<WorkerReply<string | null>>
  /**
   * Encodes the camera original of a frame sent at the model's size, from the evidence ring, at full
   * size (`options.fit` is ignored); `gone` once it left the ring. It leaves the ring either way.
   */
  evidence(frameId: string, options: Omit<EncodeOptions, 'fit'>): Promise<WorkerReply<EncodedFrame>>
}
