/**
 * Stuck-worker detection and restart pacing, after frigate's `watchdog.py`: each worker records
 * when its current inference started; a periodic check replaces any worker stuck past the limit.
 * Restarts are paced so a model that wedges every worker it touches cannot turn the process into
 * a fork loop: a few restarts a minute go through at once, beyond that each waits twice as long
 * as the last, up to a ceiling.
 */
export interface Watched {
  readonly id: number
  /** performance.now() when the current request was sent; undefined while idle. */
  readonly busySince: number | undefined
  readonly busyWith: string
}

export class Watchdog {
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(
    readonly timeoutMs: number,
    private readonly workers: () => Iterable<Watched>,
    private readonly onStuck: (w: Watched, stuckMs: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(intervalMs = Math.min(1000, Math.max(50, this.timeoutMs / 4))): void {
    if (this.#timer) return
    this.#timer = setInterval(() => this.check(), intervalMs)
    // The watchdog alone must not keep a finished process alive.
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Reports every worker busy for longer than the limit; returns how many. */
  check(): number {
    const now = this.now()
    let stuck = 0
    for (const w of [...this.workers()]) {
      if (w.busySince === undefined) continue
      const ms = now - w.busySince
      if (ms > this.timeoutMs) {
        stuck++
        this.onStuck(w, ms)
      }
    }
    return stuck
  }
}

export interface RestartPolicy {
  /** Restarts allowed without delay within `windowMs`. */
  maxPerWindow: number
  windowMs: number
  /** First delay once the budget is spent; doubles with each further restart. */
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxPerWindow: 5, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 60_000 }

export class RestartLimiter {
  readonly #recent: number[] = []
  #overBudget = 0

  constructor(
    readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Books one restart and returns how long it must wait, ms (0: go now). */
  next(): number {
    const now = this.now()
    while (this.#recent.length && now - this.#recent[0]! >= this.policy.windowMs) this.#recent.shift()
    if (this.#recent.length < this.policy.maxPerWindow) {
      this.#overBudget = 0
      this.#recent.push(now)
      return 0
    }
    const delay = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** this.#overBudget)
    this.#overBudget++
    this.#recent.push(now + delay)
    return delay
  }
}
