/**
 * Frames the worker holds between `admit` and `finish`/`release`. The bitmap was transferred in;
 * its pixels are read back once, and only for a frame that needs them (prefilter, detector).
 * A frame the main thread forgets is dropped after a while, so a lost message cannot leak GPU
 * memory for the whole shift.
 */
import type { Pixels } from './pixels.ts'

export interface HeldFrame {
  bitmap: ImageBitmap
  width: number
  height: number
  heldAt: number
  pixels?: Pixels
  /** The frame at the prefilter's size, kept to become the reference. */
  small?: Float32Array
}

/**
 * More than the session ever has in flight: the frames at work, plus a part's frames waiting for
 * its choice (up to 30 presence or burst frames, shared/domain/inspection.ts); beyond it the
 * oldest frame is dropped.
 */
const MAX_HELD = 40
const MAX_AGE_MS = 30_000

export class FrameStore {
  readonly #frames = new Map<string, HeldFrame>()
  #canvas: OffscreenCanvas | null = null
  #ctx: OffscreenCanvasRenderingContext2D | null = null

  hold(frameId: string, bitmap: ImageBitmap, now = performance.now()): HeldFrame {
    this.release(frameId)
    for (const [id, f] of this.#frames) {
      if (this.#frames.size < MAX_HELD && now - f.heldAt < MAX_AGE_MS) break
      this.release(id)
    }
    const frame: HeldFrame = { bitmap, width: bitmap.width, height: bitmap.height, heldAt: now }
    this.#frames.set(frameId, frame)
    return frame
  }

  get(frameId: string): HeldFrame | undefined {
    return this.#frames.get(frameId)
  }

  /** The frame's RGBA pixels; drawn once into a CPU-backed canvas and read back. */
  pixels(frame: HeldFrame): Pixels {
    if (frame.pixels) return frame.pixels
    const { width, height } = frame
    if (!this.#canvas || !this.#ctx) {
      this.#canvas = new OffscreenCanvas(width, height)
      // read back on every frame: a CPU canvas avoids a GPU round trip per getImageData
      this.#ctx = this.#canvas.getContext('2d', { willReadFrequently: true, alpha: false })
      if (!this.#ctx) throw new Error('OffscreenCanvas 2d context is not available')
    }
    if (this.#canvas.width !== width || this.#canvas.height !== height) {
      this.#canvas.width = width
      this.#canvas.height = height
    }
    this.#ctx.drawImage(frame.bitmap, 0, 0)
    const image = this.#ctx.getImageData(0, 0, width, height)
    frame.pixels = { data: image.data, width, height }
    return frame.pixels
  }

  /** Forgets the frame without closing its bitmap (it was handed to the encoder). */
  take(frameId: string): HeldFrame | undefined {
    const f = this.#frames.get(frameId)
    this.#frames.delete(frameId)
    return f
  }

  release(frameId: string): void {
    this.take(frameId)?.bitmap.close()
  }
}
