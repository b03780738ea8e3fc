/** Median of the last `capacity` samples; recording is O(1), the median is computed on demand (status calls). */
export class RecentMedian {
  readonly #samples: Float64Array
  #count = 0
  #next = 0

  constructor(capacity = 200) {
    this.#samples = new Float64Array(capacity)
  }

  record(value: number): void {
    this.#samples[this.#next] = value
    this.#next = (this.#next + 1) % this.#samples.length
    this.#count = Math.min(this.#count + 1, this.#samples.length)
  }

  /** 0 before the first sample. */
  median(): number {
    if (this.#count === 0) return 0
    const sorted = this.#samples.slice(0, this.#count).sort()
    const mid = this.#count >> 1
    return this.#count % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
}
