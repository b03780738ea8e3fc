/**
 * Dynamic batching for one model version, as Triton's dynamic batcher does it: frames wait in
 * arrival order; a batch may go once it is full, or once its oldest frame has waited
 * `maxDelayMs`. Frames also pile up on their own while every worker is busy, so under load batches
 * fill without any waiting. The queue only decides *when* a batch may go; the pool decides *where*.
 */
export interface BatchPolicy {
  /** Largest batch; 1 turns batching off. */
  maxSize: number
  /** Longest the oldest frame waits for a batch to fill, ms. 0: go with what is there. */
  maxDelayMs: number
}

export interface Queued<T> {
  item: T
  /** performance.now() at arrival. */
  at: number
}

export class BatchQueue<T> {
  readonly #items: Queued<T>[] = []
  #head = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  /**
   * @param onDue called when a partial batch's wait runs out, so the pool can look for a worker.
   */
  constructor(
    readonly policy: BatchPolicy,
    private readonly onDue: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(policy.maxSize >= 1)) throw new RangeError(`batch maxSize must be >= 1, got ${policy.maxSize}`)
  }

  get size(): number {
    return this.#items.length - this.#head
  }

  /** Arrival time of the oldest waiting frame. */
  get oldestAt(): number | undefined {
    return this.#items[this.#head]?.at
  }

  push(item: T): void {
    this.#items.push({ item, at: this.now() })
    if (this.size < this.policy.maxSize && this.policy.maxDelayMs > 0) this.#arm()
  }

  /** True when a batch of up to `limit` frames may be taken now. */
  due(limit = this.policy.maxSize): boolean {
    const oldest = this.oldestAt
    if (oldest === undefined) return false
    return this.size >= Math.min(limit, this.policy.maxSize) || this.now() - oldest >= this.policy.maxDelayMs
  }

  /** Takes up to `limit` frames, oldest first. */
  take(limit = this.policy.maxSize): T[] {
    const n = Math.min(this.size, limit, this.policy.maxSize)
    const out = this.#items.slice(this.#head, this.#head + n).map((q) => q.item)
    this.#head += n
    // Compact now and then rather than shift() per frame.
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    if (this.size === 0) this.#disarm()
    else if (!this.due()) this.#arm()
    return out
  }

  /** Removes and returns every waiting frame (the model went away, or the engine is closing). */
  drain(): T[] {
    const out = this.#items.slice(this.#head).map((q) => q.item)
    this.#items.length = 0
    this.#head = 0
    this.#disarm()
    return out
  }

  #arm(): void {
    if (this.#timer) return
    const oldest = this.oldestAt
    if (oldest === undefined) return
    const wait = Math.max(0, oldest + this.policy.maxDelayMs - this.now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (this.size === 0) return
      // A take() may have moved the oldest frame since this timer was set.
      if (this.due()) this.onDue()
      else this.#arm()
    }, wait)
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
