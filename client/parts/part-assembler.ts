/**
 * Which captured frames make a part, at one station (shared/domain/inspection.ts):
 *
 * - `continuous`: none; every frame stands alone, as before parts.
 * - `trigger`: a trigger (a key at the station, or the server's `trigger` message) claims the next
 *   `burstFrames` captured frames for one part; all of them are inspected.
 * - `presence`: the prefilter's part-present score opens a part when it rises to the line's
 *   threshold and closes it when it has stayed below for `PRESENCE_EXIT_FRAMES` frames; of the
 *   passage's frames the prefilter finds usable, the `presenceFrames` sharpest (the prefilter's
 *   Laplacian sharpness; the earlier on a tie) are inspected, the others released.
 *
 * A part's frames wait (held in the worker) until the part knows which of them it keeps and its
 * id: `place` answers each frame with the part id, or null when it is not inspected. The id is the
 * trigger's, else a code read in one of the part's frames (`offerCode`; barcode, QR, DataMatrix),
 * else the station's sequence (shared/domain/part-id.ts).
 *
 * Once every kept frame was handed off (sent to the server or inferred here) or lost, the part
 * ends: `onEnd` gets the frames handed off, for the station's `part-end` message.
 * No Vue and no DOM here.
 */
import type { StationInspectionView } from '../../shared/domain/inspection.ts'
import { isPartId, sequencePartId } from '../../shared/domain/part-id.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'

/** Frames below the presence threshold before a passage counts as over (one dark frame is not a gap). */
export const PRESENCE_EXIT_FRAMES = 2

type IdSource = PartEndMessage['idSource']

interface Candidate {
  frameId: string
  sharpness: number
  order: number
  resolve: (partId: string | null) => void
}

interface OpenPart {
  /** The trigger's id. */
  given: string | null
  /** The first code read in one of its frames. */
  code: string | null
  reason: 'passage' | 'burst'
  /** Burst: frames still to claim. */
  remaining: number
  /** Frames inspected at most. */
  limit: number
  /** Claimed frames not yet placed (still in the prefilter or the code reader) nor lost. */
  members: Set<string>
  /** Placed frames waiting for the part's decision. */
  held: Candidate[]
  placed: number
  /** Set once the part chose its frames and id. */
  partId: string | null
  idSource: IdSource
  chosen: Set<string>
  handedOff: string[]
  settled: number
  /** No more frames join: the burst is claimed, or the passage is over. */
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
  /** Parts that chose their frames and wait for them to settle (a new part may be open meanwhile). */
  readonly #deciding = new Set<OpenPart>()
  /** Which part each claimed frame belongs to. */
  readonly #of = new Map<string, OpenPart>()
  #last = { at: 0, counter: 0 }
  readonly #o: PartAssemblerOptions

  constructor(options: PartAssemblerOptions) {
    this.#o = options
  }

  get mode(): StationInspectionView['mode'] {
    return this.#o.view().mode
  }

  /** The open part's id, if it has one yet (a trigger's; else it is known when the part chose). */
  get current(): string | null {
    return this.#part ? (this.#part.partId ?? this.#part.given) : null
  }

  /** True while a part is open (collecting frames). */
  get open(): boolean {
    return this.#part !== null && !this.#part.over
  }

  /**
   * Ends the open part now, with the frames it has (the station's mode changed under it, or the
   * prefilter a passage needs stopped): its waiting frames are not left waiting for frames that
   * will never come.
   */
  end(): void {
    this.#endNow()
  }

  /** Ends an open part the station's current mode does not make (its mode was changed meanwhile). */
  followMode(): void {
    const p = this.#part
    if (p && (p.reason === 'burst' ? 'trigger' : 'presence') !== this.mode) this.#endNow()
  }

  /** Starts a burst (trigger mode). A part still collecting frames is ended first. */
  trigger(partId?: string, frames?: number): void {
    this.#endNow()
    const n = frames ?? this.#o.view().burstFrames
    this.#part = this.#open(partId ?? null, 'burst', n, n)
  }

  /** Trigger mode: true when a burst claims this newly captured frame (else it is not inspected). */
  claimForBurst(frameId: string): boolean {
    const p = this.#part
    if (!p || p.reason !== 'burst' || p.remaining <= 0) return false
    p.remaining--
    if (p.remaining <= 0) p.over = true
    this.#claim(p, frameId)
    return true
  }

  /**
   * Presence mode, after the prefilter: true when the frame belongs to the open passage and is a
   * candidate for inspection (then `place` it), false when it is not inspected.
   * `usable`: the prefilter found nothing else wrong with the frame (blur, exposure).
   */
  observePresence(frameId: string, partPresent: number, threshold: number, usable: boolean): boolean {
    let p = this.#part
    if (partPresent >= threshold) {
      if (!p || p.over) {
        this.#endNow()
        const n = this.#o.view().presenceFrames
        p = this.#part = this.#open(null, 'passage', 0, n)
      }
      p.below = 0
      if (!usable) return false
      this.#claim(p, frameId)
      return true
    }
    if (p && p.reason === 'passage' && !p.over && ++p.below >= PRESENCE_EXIT_FRAMES) {
      p.over = true
      this.#maybeDecide(p)
    }
    return false
  }

  /** True when the claimed frame's part still wants its id read from a code in the frame. */
  wantsCode(frameId: string): boolean {
    const p = this.#of.get(frameId)
    return p !== undefined && p.partId === null && p.given === null && p.code === null
  }

  /** A code read (or not: null) in a claimed frame; the first valid part id names the part. */
  offerCode(frameId: string, code: string | null): void {
    const p = this.#of.get(frameId)
    if (p && p.code === null && p.partId === null && code !== null && isPartId(code)) p.code = code
  }

  /**
   * A claimed frame is ready to inspect (prefilter run, code read): resolves with the part id once
   * the part chose it, or null when it does not inspect this frame (release it then).
   */
  place(frameId: string, sharpness = 0): Promise<string | null> {
    const p = this.#of.get(frameId)
    if (!p || !p.members.delete(frameId) || p.partId !== null) {
      this.#of.delete(frameId)
      return Promise.resolve(null)
    }
    return new Promise((resolve) => {
      p.held.push({ frameId, sharpness, order: p.placed++, resolve })
      if (p.held.length > p.limit) {
        // keep the sharpest `limit` (the earlier on a tie); the least sharp goes now
        p.held.sort(bySharpness)
        const out = p.held.pop()!
        this.#of.delete(out.frameId)
        out.resolve(null)
      }
      this.#maybeDecide(p)
    })
  }

  /**
   * A claimed frame's trip through the station ended: handed off (sent or inferred here) or lost
   * (dropped, failed, or not chosen).
   */
  settle(frameId: string, handedOff: boolean): void {
    const p = this.#of.get(frameId)
    if (!p) return
    if (p.members.delete(frameId)) {
      this.#of.delete(frameId)
      this.#maybeDecide(p)
      return
    }
    if (!p.chosen.has(frameId)) return
    this.#of.delete(frameId)
    p.settled++
    if (handedOff) p.handedOff.push(frameId)
    this.#maybeEnd(p)
  }

  #open(given: string | null, reason: OpenPart['reason'], remaining: number, limit: number): OpenPart {
    return { given, code: null, reason, remaining, limit, members: new Set(), held: [], placed: 0, partId: null, idSource: 'sequence', chosen: new Set(), handedOff: [], settled: 0, over: false, below: 0 }
  }

  #claim(p: OpenPart, frameId: string): void {
    p.members.add(frameId)
    this.#of.set(frameId, p)
  }

  /** Once no more frames join and every claimed one was placed or lost: choose the frames and the id. */
  #maybeDecide(p: OpenPart): void {
    if (p.partId !== null || !p.over || p.members.size > 0) return
    this.#decide(p)
  }

  #decide(p: OpenPart): void {
    if (p.given !== null) {
      p.partId = p.given
      p.idSource = 'trigger'
    } else if (p.code !== null) {
      p.partId = p.code
      p.idSource = 'barcode'
    } else {
      p.partId = this.#sequence()
      p.idSource = 'sequence'
    }
    if (this.#part === p) this.#part = null
    // frames still in the prefilter or the code reader are not waited for any more
    for (const f of p.members) this.#of.delete(f)
    p.members.clear()
    const held = [...p.held].sort((a, b) => a.order - b.order)
    p.held = []
    for (const c of held) p.chosen.add(c.frameId)
    this.#deciding.add(p)
    for (const c of held) c.resolve(p.partId)
    this.#maybeEnd(p)
  }

  #maybeEnd(p: OpenPart): void {
    if (p.partId === null || p.settled < p.chosen.size || !this.#deciding.has(p)) return
    this.#deciding.delete(p)
    if (p.chosen.size === 0) return
    this.#o.onEnd({ partId: p.partId, frames: [...p.handedOff], reason: p.reason, idSource: p.idSource })
  }

  #endNow(): void {
    const p = this.#part
    if (!p) return
    p.over = true
    if (p.partId === null) this.#decide(p)
  }

  #sequence(): string {
    const now = (this.#o.now ?? Date.now)()
    this.#last = now === this.#last.at ? { at: now, counter: this.#last.counter + 1 } : { at: now, counter: 0 }
    return sequencePartId(this.#o.station, now, this.#last.counter)
  }
}

function bySharpness(a: Candidate, b: Candidate): number {
  return b.sharpness - a.sharpness || a.order - b.order
}
