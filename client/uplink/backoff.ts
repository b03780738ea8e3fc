/**
 * Reconnect delays: exponential backoff with full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"). Full jitter matters on a plant floor: when the server restarts, every
 * station reconnects, and without jitter they would all come back in the same millisecond.
 */

export interface BackoffPolicy {
  /** Ceiling of the first delay, ms. */
  baseMs: number
  /** Largest ceiling, ms: a station never waits longer than this between tries. */
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 }

/** Upper bound of the delay before try number `attempt` (0-based): min(max, base * 2^attempt). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!Number.isFinite(attempt) || attempt < 0) attempt = 0
  // 2^attempt overflows to Infinity for large attempts, and min() then still gives maxMs
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.floor(attempt))
}

/** Full jitter: a uniform delay in [0, ceiling). `random` is injectable so the schedule is testable. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, policy))
}

/** Counts failed tries; a connection that got as far as the server's welcome resets it. */
export class Backoff {
  #attempt = 0

  constructor(
    readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.#attempt
  }

  /** The delay before the next try; each call counts one more failure. */
  next(): number {
    const delay = backoffDelay(this.#attempt, this.policy, this.random)
    this.#attempt++
    return delay
  }

  reset(): void {
    this.#attempt = 0
  }
}
