/**
 * Which captured frames make a part, at one station (shared/domain/inspection.ts):
 *
 * - `continuous`: none; every frame stands alone, as before parts.
 * - `trigger`: a trigger (a key at the station, or the server's `trigger` message) claims the next
 *   `burstFrames` captured frames for one part.
 * - `presence`: the prefilter's part-present score opens a part when it rises to the line's
 *   threshold and closes it when it has stayed below for `PRESENCE_EXIT_FRAMES` frames; only the
 *   first `presenceFrames` frames of the passage that the prefilter lets through are inspected.
 *
 * Once every claimed frame was handed off (sent to the server or inferred here) or lost, the part
 * ends: `onEnd` gets the frames handed off, for the station's `part-end` message.
 *
 * Part ids: the trigger's, else the station's sequence (shared/domain/part-id.ts).
 * No Vue and no DOM here.
 */
import type { StationInspectionView } from '../../shared/domain/inspection.ts'
import { sequencePartId } from '../../shared/domain/part-id.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'

/** Frames below the presence threshold before a passage counts as over (one dark frame is not a gap). */
export const PRESENCE_EXIT_FRAMES = 2

type IdSource = PartEndMessage['idSource']

interface OpenPart {
  partId: string
  idSource: IdSource
  reason: 'passage' | 'burst'
  /** Frames still to claim (burst), or that may still be inspected (passage). */
  remaining: number
  claimed: Set<string>
  handedOff: string[]
  settled: number
  /** Presence: the passage is over; the part ends once its claimed frames settled. */
  over: boolean
  below: number
}

export interface PartAssemblerOptions {
  station: string
  view: () => StationInspectionView
  onEnd: (end: Omit<PartEndMessage, 'type'>) => void
  now?: () => number
}

export class PartAssembler {
  #part: OpenPart | null = null
  #last = { at: 0, counter: 0 }
  readonly #o: PartAssemblerOptions

  constructor(options: PartAssemblerOptions) {
    this.#o = options
  }

  get mode(): StationInspectionView['mode'] {
    return this.#o.view().mode
  }

  /** The open part's id, if any. */
  get current(): string | null {
    return this.#part?.partId ?? null
  }

  /** Starts a burst (trigger mode). A burst still claiming frames is ended first. */
  trigger(partId?: string, frames?: number): string {
    this.#endNow()
    const id = partId ?? this.#sequence()
    this.#part = this.#open(id, partId ? 'trigger' : 'sequence', 'burst', frames ?? this.#o.view().burstFrames)
    return id
  }

  /**
   * Trigger mode: the part id a newly captured frame belongs to, or null when no burst wants it
   * (the frame is then not inspected).
   */
  claimForBurst(frameId: string): string | null {
    const p = this.#part
    if (!p || p.reason !== 'burst' || p.remaining <= 0) return null
    p.remaining--
    p.claimed.add(frameId)
    return p.partId
  }

  /**
   * Presence mode, after the prefilter: the part a frame with this part-present score belongs to,
   * or null when the frame is not to be inspected (no part, or the passage has enough frames).
   * `usable`: the prefilter found nothing else wrong with the frame (blur, exposure).
   */
  observePresence(frameId: string, partPresent: number, threshold: number, usable: boolean): string | null {
    let p = this.#part
    if (partPresent >= threshold) {
      if (!p || p.over) {
        this.#endNow()
        p = this.#part = this.#open(this.#sequence(), 'sequence', 'passage', this.#o.view().presenceFrames)
      }
      p.below = 0
      if (!usable || p.remaining <= 0) return null
      p.remaining--
      p.claimed.add(frameId)
      return p.partId
    }
    if (p && p.reason === 'passage' && !p.over && ++p.below >= PRESENCE_EXIT_FRAMES) {
      p.over = true
      this.#maybeEnd(p)
    }
    return null
  }

  /** A claimed frame's trip through the station ended: handed off (sent or inferred here) or lost. */
  settle(frameId: string, handedOff: boolean): void {
    const p = this.#part
    if (!p || !p.claimed.has(frameId)) return
    p.settled++
    if (handedOff) p.handedOff.push(frameId)
    this.#maybeEnd(p)
  }

  #open(partId: string, idSource: IdSource, reason: OpenPart['reason'], remaining: number): OpenPart {
    return { partId, idSource, reason, remaining, claimed: new Set(), handedOff: [], settled: 0, over: reason === 'burst', below: 0 }
  }

  #maybeEnd(p: OpenPart): void {
    const claimedAll = p.reason === 'burst' ? p.remaining <= 0 : p.over
    if (claimedAll && p.settled >= p.claimed.size) this.#finish(p)
  }

  #endNow(): void {
    if (this.#part) this.#finish(this.#part)
  }

  #finish(p: OpenPart): void {
    if (this.#part === p) this.#part = null
    if (p.claimed.size === 0) return
    this.#o.onEnd({ partId: p.partId, frames: [...p.handedOff], reason: p.reason, idSource: p.idSource })
  }

  #sequence(): string {
    const now = (this.#o.now ?? Date.now)()
    this.#last = now === this.#last.at ? { at: now, counter: this.#last.counter + 1 } : { at: now, counter: 0 }
    return sequencePartId(this.#o.station, now, this.#last.counter)
  }
}
