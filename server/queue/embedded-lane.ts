/**
 * The frames of one priority waiting in the embedded queue, with their expiry. Frames normally
 * expire in the order they wait (one TTL for all live frames), so expiry looks at the head only;
 * a frame published with a shorter TTL than the one before it turns on a full scan until the
 * lane is in order again.
 */
import { Ring } from './ring.ts'
import type { Priority, QueueMessage } from './types.ts'

export interface Waiting {
  message: QueueMessage
  priority: Priority
  /** Deliveries so far. */
  attempts: number
  /** ms since the epoch; Infinity when it never expires. */
  expiresAt: number
  lastError?: string
  /** Written to the journal (so removed from it when settled); false for `durable: false` frames. */
  journaled: boolean
}

export class Lane {
  readonly #ring = new Ring<Waiting>(64)
  #ordered = true
  #tailExpiry = -Infinity

  get size(): number {
    return this.#ring.size
  }

  push(w: Waiting): void {
    if (w.expiresAt < this.#tailExpiry) this.#ordered = false
    this.#tailExpiry = w.expiresAt
    this.#ring.push(w)
  }

  /** A requeued frame goes first. */
  unshift(w: Waiting): void {
    const head = this.#ring.peek()
    if (!head) this.#tailExpiry = w.expiresAt
    else if (w.expiresAt > head.expiresAt) this.#ordered = false
    this.#ring.unshift(w)
  }

  /** The next frame still alive; expired ones met on the way go to `expired`. */
  take(now: number, expired: (w: Waiting) => void): Waiting | undefined {
    for (;;) {
      const w = this.#ring.shift()
      if (this.#ring.size === 0) this.#reset()
      if (!w) return undefined
      if (w.expiresAt > now) return w
      expired(w)
    }
  }

  /** Removes expired frames; returns the earliest expiry still waiting (Infinity: none). */
  sweep(now: number, expired: (w: Waiting) => void): number {
    if (this.#ordered) {
      let head = this.#ring.peek()
      while (head && head.expiresAt <= now) {
        expired(this.#ring.shift() as Waiting)
        head = this.#ring.peek()
      }
      if (!head) this.#reset()
      return head ? head.expiresAt : Infinity
    }
    let next = Infinity
    let prev = -Infinity
    let ordered = true
    const removed = this.#ring.filter((w) => {
      if (w.expiresAt <= now) return false
      if (w.expiresAt < prev) ordered = false
      prev = w.expiresAt
      next = Math.min(next, w.expiresAt)
      return true
    })
    this.#ordered = ordered
    this.#tailExpiry = prev
    for (const w of removed) expired(w)
    return next
  }

  #reset(): void {
    this.#ordered = true
    this.#tailExpiry = -Infinity
  }
}
