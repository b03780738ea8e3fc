/**
 * One timer per embedded queue, never one per message: it fires when the earliest waiting live
 * frame expires, so the queue's depth stays true while no consumer is pulling.
 */
export class ExpirySweeper {
  #timer: NodeJS.Timeout | undefined
  #at = Infinity
  #lastSweep = 0

  /**
   * @param sweep removes what has expired and returns the earliest expiry still waiting (Infinity: none)
   * @param minSpacingMs coalesces sweeps when many frames expire a few ms apart
   */
  constructor(
    private readonly sweep: (now: number) => number,
    private readonly minSpacingMs = 10,
  ) {}

  /** A frame expiring at `at` now waits; moves the timer earlier when needed. */
  expect(at: number): void {
    if (!Number.isFinite(at) || at >= this.#at) return
    this.#arm(at)
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#at = Infinity
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer)
    const fireAt = Math.max(at, this.#lastSweep + this.minSpacingMs)
    this.#at = at
    this.#timer = setTimeout(this.#fire, Math.max(0, fireAt - Date.now()))
    // the sweeper must never be what keeps a finished process alive
    this.#timer.unref()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#at = Infinity
    const now = Date.now()
    this.#lastSweep = now
    const next = this.sweep(now)
    if (Number.isFinite(next)) this.#arm(next)
  }
}
