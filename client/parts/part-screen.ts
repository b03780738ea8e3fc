/**
 * What the station screen shows of parts: the last part's inspected images, each with the result
 * of exactly that image (never boxes of one frame over another), the part's verdict by the line's
 * rule, and the failing part held until the operator acknowledges it (`holdFailures`).
 *
 * Images are object URLs of the bytes that were inspected; a part's URLs are revoked when the part
 * leaves the screen. No Vue here: the station store wraps it in refs.
 */
import { partVerdict } from '../../shared/domain/part-verdict.ts'
import type { PartRule } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'

export interface InspectedImage {
  frameId: string
  url: string
  width: number
  height: number
  result?: InspectionResult
}

export interface PartView {
  partId: string
  images: InspectedImage[]
  verdict: 'pass' | 'fail' | null
  /** The station said every frame was sent (part-end). */
  ended: boolean
}

/** At most this many images of one part are kept for the screen. */
const MAX_IMAGES = 8

export interface PartScreenOptions {
  rule: () => PartRule
  holdFailures: () => boolean
  /** Called once per part when it is known to have failed (for the alarm). */
  onFail: (part: PartView) => void
  onChange: () => void
  createUrl?: (bytes: Uint8Array, mime: string) => string
  revokeUrl?: (url: string) => void
}

export class PartScreen {
  /** The part on screen: the held failing part, else the latest. */
  shown: PartView | null = null
  /** A failing part waiting for the operator's acknowledgement. */
  held: PartView | null = null
  readonly #parts = new Map<string, PartView>()
  readonly #alarmed = new Set<string>()
  readonly #o: PartScreenOptions

  constructor(options: PartScreenOptions) {
    this.#o = options
  }

  /** A frame of a part was sent (or inferred here) with these bytes. */
  addImage(partId: string, frameId: string, image: { mime: string; width: number; height: number; bytes: Uint8Array }): void {
    const part = this.#part(partId)
    if (part.images.length >= MAX_IMAGES) return
    const url = (this.#o.createUrl ?? defaultCreateUrl)(image.bytes, image.mime)
    part.images.push({ frameId, url, width: image.width, height: image.height })
    this.#show(part)
  }

  /** A result came back (server or browser); results of frames not on screen are ignored. */
  addResult(result: InspectionResult): void {
    if (!result.partId) return
    const part = this.#parts.get(result.partId)
    const image = part?.images.find((i) => i.frameId === result.frameId)
    if (!part || !image) return
    image.result = result
    this.#judge(part)
  }

  end(partId: string): void {
    const part = this.#parts.get(partId)
    if (!part) return
    part.ended = true
    this.#judge(part)
  }

  acknowledge(): void {
    const held = this.held
    if (!held) return
    this.held = null
    const latest = [...this.#parts.values()].at(-1) ?? null
    this.shown = latest
    this.#prune()
    this.#o.onChange()
  }

  #part(partId: string): PartView {
    let part = this.#parts.get(partId)
    if (!part) {
      part = { partId, images: [], verdict: null, ended: false }
      this.#parts.set(partId, part)
    }
    return part
  }

  #judge(part: PartView): void {
    const judged = part.images.filter((i) => i.result).map((i) => i.result!)
    part.verdict = partVerdict(judged, this.#o.rule()).verdict
    // a part is judged failing as soon as it fails under "any"; under "majority" only once all are in
    const final = part.ended && judged.length === part.images.length
    if (part.verdict === 'fail' && (final || this.#o.rule() === 'any') && !this.#alarmed.has(part.partId)) {
      this.#alarmed.add(part.partId)
      if (this.#o.holdFailures() && !this.held) this.held = part
      this.#o.onFail(part)
    }
    this.#show(part)
  }

  #show(part: PartView): void {
    if (!this.held) this.shown = part
    this.#prune()
    this.#o.onChange()
  }

  /** Only the shown and held parts keep their images. */
  #prune(): void {
    for (const [id, p] of this.#parts) {
      if (p === this.shown || p === this.held) continue
      const isLatest = [...this.#parts.keys()].at(-1) === id
      if (isLatest) continue
      for (const i of p.images) (this.#o.revokeUrl ?? URL.revokeObjectURL)(i.url)
      this.#parts.delete(id)
      this.#alarmed.delete(id)
    }
  }
}

function defaultCreateUrl(bytes: Uint8Array, mime: string): string {
  return URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }))
}
