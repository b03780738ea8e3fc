/**
 * JPEG (or WebP) encoding in the worker, with the bitmap taken over rather than drawn:
 * 'bitmaprenderer' adopts the bitmap, and convertToBlob snapshots the canvas synchronously, so the
 * next frame may use the canvas at once.
 */
import * as Comlink from 'comlink'
import { uplinkSize } from '../../shared/inference/letterbox.ts'
import type { EncodedFrame, EncodeOptions, WorkerReply } from './api.ts'

let canvas: OffscreenCanvas | null = null
let renderer: ImageBitmapRenderingContext | null = null

/**
 * Takes ownership of the bitmap (closed in every case). A frame resized for the uplink is handed,
 * once encoded, to `keepOriginal` instead of being closed (the evidence ring).
 */
export async function encodeBitmap(frame: ImageBitmap, options: EncodeOptions, keepOriginal?: (original: ImageBitmap) => void): Promise<WorkerReply<EncodedFrame>> {
  const started = performance.now()
  let bitmap = frame
  const from = { width: frame.width, height: frame.height }
  const size = options.fit ? uplinkSize(from, options.fit) : from
  const resized = size.width !== from.width || size.height !== from.height
  try {
    if (resized) {
      // the model-size uplink: the browser scales on its GPU, the server then only decodes
      bitmap = await createImageBitmap(frame, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'medium' })
      if (!keepOriginal) frame.close()
    }
    const { width, height } = bitmap
    if (!canvas || !renderer) {
      canvas = new OffscreenCanvas(width, height)
      renderer = canvas.getContext('bitmaprenderer')
      if (!renderer) {
        bitmap.close()
        if (resized) frame.close()
        return { ok: false, error: { code: 'no_canvas', message: 'OffscreenCanvas bitmaprenderer context is not available' } }
      }
    }
    canvas.width = width
    canvas.height = height
    // the bitmap is detached afterwards, so no close() is needed on success
    renderer.transferFromImageBitmap(bitmap)
    const blob = await canvas.convertToBlob({ type: options.mime, quality: options.quality })
    if (blob.type !== options.mime) {
      if (resized) frame.close()
      return { ok: false, error: { code: 'unsupported_type', message: `this browser encodes ${blob.type}, not ${options.mime}` } }
    }
    const bytes = new Uint8Array(await blob.arrayBuffer())
    if (resized) keepOriginal?.(frame)
    return { ok: true, value: { bytes, mime: options.mime, width, height, ...(resized ? { from } : {}), encodeMs: performance.now() - started } }
  } catch (e) {
    bitmap.close()
    frame.close()
    return { ok: false, error: { code: 'encode_failed', message: (e as Error).message } }
  }
}

/** The encoded bytes leave the worker by transfer. */
export function transferEncoded<T extends { encoded?: EncodedFrame }>(value: T): T {
  return value.encoded ? Comlink.transfer(value, [value.encoded.bytes.buffer]) : value
}
