/**
 * The demo source, for a station without a camera (or without permission to use it): the
 * server's sample images played as a video. Each image is drawn onto a canvas for one capture
 * interval, and the canvas becomes a MediaStream, so everything after this (grabber, encoder,
 * uplink) runs exactly as with a camera.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { fetchSamples, type Sample } from '../api/endpoints.ts'
import { containFit } from '../overlay/fit.ts'
import { stopStream, type CaptureSource, type SourceResult } from './source.ts'

async function loadImage(sample: Sample): Promise<{ ok: true; bitmap: ImageBitmap } | { ok: false; error: WireError }> {
  try {
    const res = await fetch(sample.url)
    if (!res.ok) return { ok: false, error: { code: `http_${res.status}`, message: `${sample.url}: ${res.status} ${res.statusText}` } }
    return { ok: true, bitmap: await createImageBitmap(await res.blob()) }
  } catch (e) {
    return { ok: false, error: { code: 'sample_unreadable', message: `${sample.url}: ${(e as Error).message}` } }
  }
}

export interface DemoOptions {
  /** Frames per second to play at; read before every frame, so a settings change applies live. */
  fps: () => number
}

export async function openDemo(options: DemoOptions): Promise<SourceResult> {
  const list = await fetchSamples()
  if (!list.ok) return list
  if (list.value.length === 0) return { ok: false, error: { code: 'no_samples', message: 'the server has no sample images' } }

  const loaded = await Promise.all(list.value.map(loadImage))
  const images: ImageBitmap[] = []
  for (const l of loaded) if (l.ok) images.push(l.bitmap)
  const firstError = loaded.find((l) => !l.ok)
  if (images.length === 0) return { ok: false, error: firstError && !firstError.ok ? firstError.error : { code: 'no_samples', message: 'no sample image could be loaded' } }

  // The canvas takes the size of the first sample; others are fitted into it, keeping their aspect ratio.
  const width = images[0]!.width
  const height = images[0]!.height
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d', { alpha: false })
  if (!ctx) return { ok: false, error: { code: 'no_canvas', message: 'a 2D canvas is not available' } }

  let index = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  const draw = () => {
    const img = images[index++ % images.length]!
    const fit = containFit(img.width, img.height, width, height)
    ctx.fillStyle = '#000'
    ctx.fillRect(0, 0, width, height)
    ctx.drawImage(img, fit.offsetX, fit.offsetY, img.width * fit.scale, img.height * fit.scale)
    timer = setTimeout(draw, 1000 / Math.max(0.2, options.fps()))
  }
  draw()
  // no frame rate argument: a frame is emitted whenever the canvas is drawn, i.e. at our pace
  const stream = canvas.captureStream()

  const source: CaptureSource = {
    kind: 'demo',
    stream,
    label: String(images.length),
    stop: () => {
      if (timer) clearTimeout(timer)
      timer = null
      stopStream(stream)
      for (const img of images) img.close()
    },
  }
  return { ok: true, source }
}
