/**
 * The inference worker's API, shared by the worker and the main thread. Calls answer with values:
 * an error crosses the worker boundary as `{ok: false, error: {code, message}}`, never as a throw.
 *
 * Today the worker only encodes frames. The browser-inference step adds `prefilter(bitmap)` and
 * `detect(bitmap)` here (onnxruntime-web, WebGPU then WASM), beside `encode`, so the session's
 * routing can send a frame to the server, infer it locally, or skip it without the frame's
 * pixels ever being copied on the main thread.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'

export type EncodeMime = 'image/jpeg' | 'image/webp'

export interface EncodeOptions {
  mime: EncodeMime
  /** 0..1, as for `convertToBlob`. */
  quality: number
}

export interface EncodedFrame {
  /** Transferred back to the caller, not copied. */
  bytes: Uint8Array
  mime: EncodeMime
  width: number
  height: number
  encodeMs: number
}

export type WorkerReply<T> = { ok: true; value: T } | { ok: false; error: WireError }

export interface InferenceWorkerApi {
  /** Encodes a frame; the bitmap is transferred in, and closed by the worker. */
  encode(bitmap: ImageBitmap, options: EncodeOptions): Promise<WorkerReply<EncodedFrame>>
}
