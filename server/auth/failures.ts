/**
 * Failed authentications per address, in a sliding minute. Past the limit an address is refused
 * before its token is even looked at (429) until its oldest failure is a minute old, so guessing
 * tokens or pairing codes costs a minute per `limit` tries.
 */
const WINDOW_MS = 60_000
/** Addresses tracked at once; the oldest is forgotten beyond it, so a flood cannot grow memory. */
const MAX_ADDRESSES = 10_000

export class FailureLimiter {
  readonly #failures = new Map<string, number[]>()

  constructor(private readonly limit: number) {}

  /** ms until this address may try again; 0 when it may now. */
  retryAfterMs(address: string, now = Date.now()): number {
    const times = this.#recent(address, now)
    return times.length >= this.limit ? times[0]! + WINDOW_MS - now : 0
  }

  /** Counts a failure; true when it is the one that reached the limit. */
  fail(address: string, now = Date.now()): boolean {
    const times = this.#recent(address, now)
    times.push(now)
    this.#failures.delete(address)
    this.#failures.set(address, times)
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!)
    return times.length === this.limit
  }

  #recent(address: string, now: number): number[] {
    const times = (this.#failures.get(address) ?? []).filter((t) => t > now - WINDOW_MS)
    if (times.length) this.#failures.set(address, times)
    else this.#failures.delete(address)
    return times
  }
}
