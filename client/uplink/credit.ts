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
 * A slot is also freed by a timeout.
 *
 * When the connection drops, a sent frame whose answer had not come is kept with its slot if the
 * caller left a copy of it (`markSent`'s `copy`: the envelope), and sent again first on the next
 * connection (`resendHeld`) with the same frame id: the server dedupes by frame id (a copy still
 * queued answers the resend; one already recorded is recorded once), so a frame the station saw
 * `accepted` by a process that was then killed still gets exactly one record. Only what was in
 * flight is kept, so at most `credit` copies; a frame is sent at most `maxSends` times in all, so
 * a frame that brings the server down each time it arrives does not do so for ever. A frame
 * answered `busy` or `rejected` is not kept: it follows the drop policy above.
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
  /** Frames in flight when the connection dropped and not kept to send again, or whose answer never came. */
  lost: number
  /** Frames sent again on a new connection, after the one they went out on dropped before their answer. */
  resent: number
  dropped: Record<DropReason, number>
}

export function emptyCounts(): UplinkCounts {
  return { sent: 0, accepted: 0, busy: 0, rejected: 0, completed: 0, lost: 0, resent: 0, dropped: { credit: 0, offline: 0, encoder: 0, too_large: 0, error: 0 } }
}

export function totalDropped(c: UplinkCounts): number {
  return DROP_REASONS.reduce((n, r) => n + c.dropped[r], 0)
}

interface Slot<T> {
  meta: T
  reservedAt: number
  /** Set once the frame went out on the socket (the last time, for a frame sent again). */
  sentAt?: number
  /** Set by an `accepted` ack; the slot stays taken until the result. */
  ackedAt?: number
  /** What is sent again after a reconnect; without it the frame is lost with its connection. */
  copy?: Uint8Array
  /** Times handed to a socket. */
  sends: number
  /** Order of the first send, which a resend keeps. */
  order: number
  /** Sent on a connection that dropped before its answer; waits for `resendHeld`. */
  held: boolean
}

export interface CreditWindowOptions {
  /** Sends of one frame in all, the first included, before a dropped connection counts it lost. @default 3 */
  maxSends?: number
}

export interface HeldFrame {
  frameId: string
  copy: Uint8Array
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
  readonly #maxSends: number
  #held = 0
  #order = 0

  constructor(credit: number, options: CreditWindowOptions = {}) {
    this.#credit = Math.max(1, Math.floor(credit))
    this.#maxSends = Math.max(1, Math.floor(options.maxSends ?? 3))
  }

  get credit(): number {
    return this.#credit
  }

  /**
   * Slots taken: reserved for a frame being encoded, sent, accepted and awaiting its result, or
   * held to be sent again.
   */
  get inFlight(): number {
    return this.#slots.size
  }

  /** Frames held to be sent again on the next connection. */
  get held(): number {
    return this.#held
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
    this.#slots.set(frameId, { meta, reservedAt: now, sends: 0, order: 0, held: false })
    return true
  }

  /**
   * The frame went out. False when its slot is gone (the connection dropped while it was being
   * encoded): the caller must not send it. `copy` (the bytes on the wire) is kept until the frame is
   * answered, to send it again should the connection drop first.
   */
  markSent(frameId: string, now: number, opts: { update?: (meta: T) => T; copy?: Uint8Array } = {}): boolean {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt !== undefined) return false
    slot.sentAt = now
    slot.sends = 1
    slot.order = ++this.#order
    if (opts.update) slot.meta = opts.update(slot.meta)
    if (opts.copy) slot.copy = opts.copy
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
    // a held frame is not on this connection yet: no ack can be for it
    if (!slot || slot.sentAt === undefined || slot.ackedAt !== undefined || slot.held) return undefined
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

  /**
   * The frame's result arrived: frees its slot (a held frame's too: it need not go again).
   * Undefined for a frame not in flight (e.g. timed out).
   */
  complete(frameId: string): Released<T> | undefined {
    const slot = this.#slots.get(frameId)
    if (!slot || slot.sentAt === undefined) return undefined
    this.#slots.delete(frameId)
    if (slot.held) this.#held--
    this.#counts.completed++
    const r: Released<T> = { frameId, meta: slot.meta, sentAt: slot.sentAt }
    if (slot.ackedAt !== undefined) r.ackedAt = slot.ackedAt
    return r
  }

  /** Frees slots whose answer is overdue, so a lost message cannot stall the station for good. */
  expire(now: number, timeoutMs: number): string[] {
    const expired: string[] = []
    for (const [id, slot] of this.#slots) {
      // a held frame waits for a connection, not for an answer
      if (slot.sentAt !== undefined && !slot.held && now - slot.sentAt >= timeoutMs) {
        this.#slots.delete(id)
        this.#counts.lost++
        expired.push(id)
      }
    }
    return expired
  }

  /**
   * The connection dropped: nothing in flight will be answered on it. A sent frame with a copy and
   * sends left is held (with its slot) for the next connection; the others are counted lost, and
   * frames still being encoded dropped.
   */
  reset(): void {
    for (const [id, slot] of this.#slots) {
      if (slot.held) continue
      if (slot.sentAt === undefined) this.#counts.dropped.offline++
      else if (slot.copy && slot.sends < this.#maxSends) {
        slot.held = true
        delete slot.ackedAt
        this.#held++
        continue
      } else this.#counts.lost++
      this.#slots.delete(id)
    }
  }

  /**
   * Takes the held frames that fit under the credit now, in the order they were first sent, and
   * marks them sent again; the caller puts the returned copies on the socket in that order, before
   * any new frame. Call it once connected and whenever a slot frees. Held frames keep their slots,
   * so while any wait, a new frame finds no room.
   */
  resendHeld(now: number): HeldFrame[] {
    if (this.#held === 0) return []
    const room = this.#credit - (this.#slots.size - this.#held)
    if (room <= 0) return []
    const held = [...this.#slots].filter(([, s]) => s.held).sort(([, a], [, b]) => a.order - b.order).slice(0, room)
    return held.map(([frameId, slot]) => {
      slot.held = false
      slot.sentAt = now
      slot.sends++
      this.#held--
      this.#counts.resent++
      return { frameId, copy: slot.copy! }
    })
  }

  counts(): UplinkCounts {
    return { ...this.#counts, dropped: { ...this.#counts.dropped } }
  }
}
