/**
 * The embedded queue's dead letters: the newest `max` kept, addressable by message id, and a
 * count of those dropped to stay within `max` (a flood of expired frames must not grow memory).
 */
import type { DeadLetter } from './types.ts'

export class DeadLetterList {
  // a Map iterates in insertion order, so its first key is always the oldest dead letter
  readonly #byId = new Map<string, DeadLetter>()
  #evicted = 0

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`dead-letter capacity must be a positive integer, got ${max}`)
  }

  get size(): number {
    return this.#byId.size
  }

  get evicted(): number {
    return this.#evicted
  }

  add(d: DeadLetter): void {
    // a frame dead-lettered again (requeued, failed again) moves to the newest end
    this.#byId.delete(d.message.id)
    this.#byId.set(d.message.id, d)
    while (this.#byId.size > this.max) {
      const oldest = this.#byId.keys().next().value as string
      this.#byId.delete(oldest)
      this.#evicted++
    }
  }

  get(id: string): DeadLetter | undefined {
    return this.#byId.get(id)
  }

  delete(id: string): boolean {
    return this.#byId.delete(id)
  }

  list(limit: number): DeadLetter[] {
    const out: DeadLetter[] = []
    for (const d of this.#byId.values()) {
      if (out.length >= limit) break
      out.push(d)
    }
    return out
  }
}
