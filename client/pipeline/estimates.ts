/**
 * Running latency estimates the router compares: what a frame costs here (local detector) and what
 * the station spends before the server has a frame (JPEG encode, upload and the server's ack).
 * Exponentially weighted, so one slow frame (a GC pause, a tab switch) moves them only a little.
 */
export class Ewma {
  #value: number | null = null

  constructor(private readonly alpha = 0.2) {}

  get value(): number | null {
    return this.#value
  }

  add(sample: number): void {
    if (!Number.isFinite(sample) || sample < 0) return
    this.#value = this.#value === null ? sample : this.#value + this.alpha * (sample - this.#value)
  }

  /** A measured starting point (the backend's warm-up median), replacing what was there. */
  reset(value: number | null): void {
    this.#value = value
  }
}

export class LatencyEstimates {
  /** Local detector per frame (letterbox, model, decode), ms. */
  readonly local = new Ewma()
  readonly encode = new Ewma()
  /** Sending a frame until the server's `accepted` ack, ms. */
  readonly uplink = new Ewma()

  /** Station-side cost of the server path; null until a frame went that way. */
  serverOverheadMs(): number | null {
    const e = this.encode.value
    const u = this.uplink.value
    return e === null && u === null ? null : (e ?? 0) + (u ?? 0)
  }
}
