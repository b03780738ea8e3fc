/**
 * The station's inference worker (a dedicated Web Worker exposed with comlink). Frames arrive as
 * transferred ImageBitmaps; the JPEG comes back as a transferred buffer. Keeping encoding here
 * leaves the main thread free for the video and the overlay.
 */
import * as Comlink from 'comlink'
import type { EncodedFrame, EncodeOptions, InferenceWorkerApi, WorkerReply } from './api.ts'

// One canvas reused for every frame; 'bitmaprenderer' takes the bitmap over without drawing it.
let canvas: OffscreenCanvas | null = null
let renderer: ImageBitmapRenderingContext | null = null

async function encode(bitmap: ImageBitmap, options: EncodeOptions): Promise<WorkerReply<EncodedFrame>> {
  const started = performance.now()
  const { width, height } = bitmap
  try {
    if (!canvas || !renderer) {
      canvas = new OffscreenCanvas(width, height)
      renderer = canvas.getContext('bitmaprenderer')
      if (!renderer) return { ok: false, error: { code: 'no_canvas', message: 'OffscreenCanvas bitmaprenderer context is not available' } }
    }
    canvas.width = width
    canvas.height = height
    // takes ownership of the bitmap (it is detached afterwards), so no close() is needed on success
    renderer.transferFromImageBitmap(bitmap)
    // convertToBlob snapshots the canvas synchronously, so the next frame may be taken in at once
    const blob = await canvas.convertToBlob({ type: options.mime, quality: options.quality })
    const bytes = new Uint8Array(await blob.arrayBuffer())
    if (blob.type !== options.mime) {
      return { ok: false, error: { code: 'unsupported_type', message: `this browser encodes ${blob.type}, not ${options.mime}` } }
    }
    const value: EncodedFrame = { bytes, mime: options.mime, width, height, encodeMs: performance.now() - started }
    return Comlink.transfer({ ok: true, value }, [bytes.buffer])
  } catch (e) {
    bitmap.close()
    return { ok: false, error: { code: 'encode_failed', message: (e as Error).message } }
  }
}

const api: InferenceWorkerApi = { encode }
Comlink.expose(api)
