/**
 * Continuous mode's station screen: the latest inspected frame as a still with the boxes of its own
 * result, never the latest boxes over the live video (which has moved on by the time they come
 * back). The bytes of frames in flight are kept (at most MAX_PENDING, oldest dropped) until their
 * result comes back; then that image, with that result, replaces the still on screen.
 *
 * A result without its image (inferred on this tablet and passed: the worker encodes only failing
 * frames) shows as the verdict with no image, so a still never stands beside a newer verdict.
 * No Vue here: the station store wraps it in a ref.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { PartView } from '../parts/part-screen.ts'

export interface StillImage {
  mime: string
  width: number
  height: number
  bytes: Uint8Array
}

/** Frames in flight whose bytes are kept; the station's credit keeps far fewer in flight. */
export const MAX_PENDING = 32

export interface FrameStillOptions {
  onChange: (shown: PartView | null) => void
  createUrl?: (bytes: Uint8Array, mime: string) => string
  revokeUrl?: (url: string) => void
}

export class FrameStill {
  shown: PartView | null = null
  readonly #pending = new Map<string, StillImage>()
  readonly #o: FrameStillOptions

  constructor(options: FrameStillOptions) {
    this.#o = options
  }

  get pending(): number {
    return this.#pending.size
  }

  /** A frame was sent (or encoded here) with these bytes. */
  addImage(frameId: string, image: StillImage): void {
    this.#pending.set(frameId, image)
    while (this.#pending.size > MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!)
  }

  /** A result came back: it goes on screen with its own image (or none, if none was kept). */
  addResult(result: InspectionResult, image?: StillImage): void {
    const img = image ?? this.#pending.get(result.frameId)
    this.#pending.delete(result.frameId)
    // results come back in order per station, but a late one must not replace a newer still
    if (this.shown?.images[0]?.result && this.shown.images[0].result.capturedAt > result.capturedAt) return
    this.#release()
    const url = img ? (this.#o.createUrl ?? defaultCreateUrl)(img.bytes, img.mime) : null
    this.shown = {
      partId: result.frameId,
      images: url && img ? [{ frameId: result.frameId, url, width: img.width, height: img.height, result }] : [],
      verdict: result.error ? null : result.verdict,
      ended: true,
    }
    this.#o.onChange(this.shown)
  }

  clear(): void {
    this.#release()
    this.#pending.clear()
    this.shown = null
    this.#o.onChange(null)
  }

  #release(): void {
    for (const i of this.shown?.images ?? []) (this.#o.revokeUrl ?? URL.revokeObjectURL)(i.url)
  }
}

function defaultCreateUrl(bytes: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }))
}
