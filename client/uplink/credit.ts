/**
 * Credit accounting for the station uplink. The server grants `credit` frames in flight. A frame
 * over credit is dropped here and counted, never queued: on a line, a frame that waits is a frame
 * about a part that has already moved on, and an unbounded queue on a tablet with flaky Wi-Fi
 * only grows.
 *
 * A slot is taken before the frame is encoded (so no CPU is spent on a frame that cannot be sent)
 * and held until the server is done with the frame: a `busy`/`rejected` ack, or the result of an
 * `accepted` one. That is how the gateway counts (server/ingest/station-session.ts holds credit
 * until the result goes back), so the station never trips the server's busy answer by itself.
 * A slot is also freed by a timeout, or when the connection drops.
 */

export type AckStatus = 'accepted' | 'busy' | 'rejected' | 'recorded'

/** Why a frame never left the station. */
export type DropReason = 'credit' | 'offline' | 'encoder' | 'too_large' | 'error'
export const DROP_REASONS: readonly DropReason[] = ['credit', 'offline', 'encoder', 'too_large', 'error']

export interface UplinkCounts {
  /** Frames handed to the socket. */
  sent: number
  accepted: number
  busy: number
  rejected: number
  /** Results received for frames in flight. */
  completed: number
  /** Frames in flight when the connection dropped or whose answer never came. */
  lost: number
  dropped: Record<DropReason, number>
}

export function emptyCounts(): UplinkCounts {
  return { sent: 0, accepted: 0, busy: 0, rejected: 0, completed: 0, lost: 0, dropped: { credit: 0, offline: 0, encoder: 0, too_large: 0, error: 0 } }
}

export function totalDropped(c: UplinkCounts): number {
  return DROP_REASONS.reduce((n, r) => n + c.dropped[r], 0)
}

interface Slot<T> {
  meta: T
  reservedAt: number
  /** Set once the frame went out on the socket. */
  sentAt?: number
  /** Set by an `accepted` ack; the slot stays taken until the result. */
  ackedAt?: number
}

export interface Released<T> {
  frameId: string
  meta: T
  sentAt: number
  ackedAt?: number
}

export class CreditWindow<T = undefined> {
  #credit: number
  readonly #slots = new Map<string, Slot<T>>()
  readonly #counts = emptyCounts()

  constructor(credit: number) {
    this.#credit = Math.max(1, Math.floor(credit))
  }

  get credit(): number {
    return this.#credit
  }

  /** Slots taken: reserved for a frame being encoded, sent, or accepted and awaiting its result. */
  get inFlight(): number {
    return this.#slots.size
  }

  /** A lower credit takes effect as frames complete: nothing already in flight is cancelled. */
  setCredit(credit: number): void {
    this.#credit = Math.max(1, Math.floor(credit))
  }

  /** Takes a slot for a frame, or counts it as dropped for lack of credit. */
  tryReserve(frameId: string, meta: T, now: number): boolean {
    if (this.#slots.size >= this.#credit || this.#slots.has(frameId)) {
      this.#counts.dropped.credit++
      return false
    }
    this.#slots.set(frameId, { meta, reservedAt: now })
    return true
  }

  /**
   * The frame went out. False when its slot is gone (the connection dropped while it was being
   * encoded): the caller must not send it.
   */
  markSent(frameId: string, now: number, update?: (meta: T) => T): boolean {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt !== undefined) return false
    slot.sentAt = now
    if (update) slot.meta = update(slot.meta)
    this.#counts.sent++
    return true
  }

  /** A reserved frame that will not be sent after all (encoder failed, socket closed...). */
  cancel(frameId: string, reason: DropReason): boolean {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt !== undefined) return false
    this.#slots.delete(frameId)
    this.#counts.dropped[reason]++
    return true
  }

  /** Counts a frame dropped before it ever had a slot (e.g. captured while offline). */
  countDrop(reason: DropReason): void {
    this.#counts.dropped[reason]++
  }

  /**
   * The server answered a sent frame. busy/rejected/recorded free the slot; accepted keeps it until
   * the result. Undefined for a frame that is not awaiting an ack.
   */
  ack(frameId: string, status: AckStatus, now: number): Released<T> | undefined {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt === undefined || slot.ackedAt !== undefined) return undefined
    if (status === 'accepted') {
      slot.ackedAt = now
      this.#counts.accepted++
      return { frameId, meta: slot.meta, sentAt: slot.sentAt, ackedAt: now }
    }
    this.#slots.delete(frameId)
    if (status === 'busy') this.#counts.busy++
    else if (status === 'rejected') this.#counts.rejected++
    else this.#counts.completed++
    return { frameId, meta: slot.meta, sentAt: slot.sentAt, ackedAt: now }
  }

  /** The frame's result arrived: frees its slot. Undefined for a frame not in flight (e.g. timed out). */
  complete(frameId: string): Released<T> | undefined {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt === undefined) return undefined
    this.#slots.delete(frameId)
    this.#counts.completed++
    const r: Released<T> = { frameId, meta: slot.meta, sentAt: slot.sentAt }
    if (slot.ackedAt !== undefined) r.ackedAt = slot.ackedAt
    return r
  }

  /** Frees slots whose answer is overdue, so a lost message cannot stall the station for good. */
  expire(now: number, timeoutMs: number): string[] {
    const expired: string[] = []
    for (const [id, slot] of this.#slots) {
      if (slot.sentAt !== undefined && now - slot.sentAt >= timeoutMs) {
        this.#slots.delete(id)
        this.#counts.lost++
        expired.push(id)
      }
    }
    return expired
  }

  /** The connection dropped: nothing in flight will be answered any more. */
  reset(): void {
    for (const slot of this.#slots.values()) {
      if (slot.sentAt !== undefined) this.#counts.lost++
      else this.#counts.dropped.offline++
    }
    this.#slots.clear()
  }

  counts(): UplinkCounts {
    return { ...this.#counts, dropped: { ...this.#counts.dropped } }
  }
}
