/**
 * Evidence on demand, the server's side (the protocol: shared/protocol/messages/evidence.ts).
 *
 * Why the server asks rather than the station pushing after a failing verdict: the server holds
 * the line's `evidence` setting, the verdict and the list of frames this socket sent, so it alone
 * can promise "only frames that station sent, at most once each"; a station only answers, and an
 * old station that never answers costs a timeout, never a verdict.
 *
 * `EvidenceBook` is one session's open requests: which frame, the camera size its original must
 * have, until when. No socket, no timers of its own beyond the one per request it is given.
 */
import { evidenceMode, type EvidenceMode, type LineSettings } from '../../shared/domain/line-settings.ts'
import type { Verdict } from '../../shared/domain/result.ts'

/** A request not answered within this is counted missed (the station is gone, or too old to answer), ms. */
export const EVIDENCE_WAIT_MS = 30_000
/** Requests one session may have open; beyond it a frame's original is not asked for (counted missed). */
export const MAX_PENDING_EVIDENCE = 32

/** What a station session needs to ask for evidence and keep it. */
export interface EvidenceDeps {
  /** The line's mode; `never` too when the store keeps no originals (STORE_IMAGES=none, STORE_ORIGINALS=false). */
  mode(line: string): EvidenceMode
  /** Stores the original as the recorded frame's image; false when no record has this frame id. */
  store(frameId: string, original: Uint8Array): Promise<boolean>
  /** How long a request waits for its answer, ms. @default EVIDENCE_WAIT_MS */
  waitMs?: number
}

export function wantsEvidence(mode: EvidenceMode, verdict: Verdict): boolean {
  return mode === 'all' || (mode === 'failing' && verdict === 'fail')
}

/** The deps the composition root hands the station sessions. */
export function evidenceDeps(o: {
  settings: { get(line: string): Pick<LineSettings, 'evidence'> }
  store: { saveEvidence(frameId: string, original: Uint8Array): Promise<boolean> }
  /** False when the store keeps no originals: asking stations for them would be wasted Wi-Fi. */
  keepsOriginals: boolean
}): EvidenceDeps {
  return {
    mode: (line) => (o.keepsOriginals ? evidenceMode(o.settings.get(line)) : 'never'),
    store: (frameId, original) => o.store.saveEvidence(frameId, original),
  }
}

export interface PendingEvidence {
  /** The camera frame's size: the original must be exactly this. */
  width: number
  height: number
  timer: ReturnType<typeof setTimeout>
}

export class EvidenceBook {
  readonly #pending = new Map<string, PendingEvidence>()

  get pending(): ReadonlyMap<string, PendingEvidence> {
    return this.#pending
  }

  get full(): boolean {
    return this.#pending.size >= MAX_PENDING_EVIDENCE
  }

  /** Opens a request; `onTimeout` runs if it is still open after `waitMs`. */
  expect(frameId: string, size: { width: number; height: number }, waitMs: number, onTimeout: () => void): void {
    this.take(frameId)
    const timer = setTimeout(() => {
      if (this.#pending.get(frameId)?.timer !== timer) return
      this.#pending.delete(frameId)
      onTimeout()
    }, waitMs)
    timer.unref?.()
    this.#pending.set(frameId, { width: size.width, height: size.height, timer })
  }

  /** Closes a request (answered, refused or missing); undefined when none was open: a second answer finds nothing. */
  take(frameId: string): PendingEvidence | undefined {
    const p = this.#pending.get(frameId)
    if (!p) return undefined
    clearTimeout(p.timer)
    this.#pending.delete(frameId)
    return p
  }

  clear(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer)
    this.#pending.clear()
  }
}
