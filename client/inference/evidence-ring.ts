/**
 * The camera's full-resolution originals of the last frames sent at the model's size (evidence on
 * demand, shared/protocol/messages/evidence.ts), held in the worker until the server asks for one.
 *
 * Kept as the ImageBitmaps the camera gave, not as JPEGs: holding a bitmap costs memory only,
 * while encoding every frame at full size would cost the tablet an encode per frame for the few
 * the server ever asks for (a failing frame's original is encoded when it is asked for). Bounded
 * by count and by decoded bytes (RGBA, 4 per pixel); the oldest goes first, closed.
 */

/** Originals held at most: more than a station has in flight while its results come back. */
export const EVIDENCE_RING_FRAMES = 16
/** Decoded bytes held at most: 16 frames of 1280x720, 7 of 1920x1080. */
export const EVIDENCE_RING_BYTES = 64 * 1024 * 1024

export class EvidenceRing {
  readonly #frames = new Map<string, ImageBitmap>()
  #bytes = 0

  constructor(
    readonly maxFrames = EVIDENCE_RING_FRAMES,
    readonly maxBytes = EVIDENCE_RING_BYTES,
  ) {}

  get size(): number {
    return this.#frames.size
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Takes ownership of the bitmap; one larger than the whole ring is closed at once. */
  put(frameId: string, bitmap: ImageBitmap): void {
    this.take(frameId)?.close()
    const bytes = sizeOf(bitmap)
    if (bytes > this.maxBytes || this.maxFrames < 1) return bitmap.close()
    for (const [id] of this.#frames) {
      if (this.#frames.size < this.maxFrames && this.#bytes + bytes <= this.maxBytes) break
      this.take(id)?.close()
    }
    this.#frames.set(frameId, bitmap)
    this.#bytes += bytes
  }

  /** Hands the original over (the caller closes it); undefined once it left the ring. */
  take(frameId: string): ImageBitmap | undefined {
    const bitmap = this.#frames.get(frameId)
    if (!bitmap) return undefined
    this.#frames.delete(frameId)
    this.#bytes -= sizeOf(bitmap)
    return bitmap
  }

  clear(): void {
    for (const b of this.#frames.values()) b.close()
    this.#frames.clear()
    this.#bytes = 0
  }
}

function sizeOf(b: { width: number; height: number }): number {
  return b.width * b.height * 4
}
