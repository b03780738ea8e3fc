/**
 * The server's load, as stations need it to choose between browser and server inference:
 * queue depth, frames in flight, workers, p95 latency and the expected wait for a new frame.
 * Latencies are kept in a fixed ring (no allocation per frame); depth is polled by the caller.
 */
import type { LoadReport, RoutingPolicy } from '../../shared/domain/load.ts'

const WINDOW_MS = 60_000
const RING = 4096
/** The p95 is asked for with every result sent; a scan and sort of the ring each time is not needed. */
const P95_REUSE_MS = 250

export class LoadTracker {
  readonly #at = new Float64Array(RING)
  readonly #ms = new Float64Array(RING)
  #next = 0
  #count = 0
  #inferMs = 0
  #p95 = { at: Number.NEGATIVE_INFINITY, value: 0 }
  queueDepth = 0
  inFlight = 0
  workers = 0
  paused = false
  offload = false

  /** Server-side latency of one frame (received -> result), ms. */
  recordLatency(ms: number, now = Date.now()): void {
    this.#at[this.#next] = now
    this.#ms[this.#next] = ms
    this.#next = (this.#next + 1) % RING
    if (this.#count < RING) this.#count++
  }

  /** Model time per frame, smoothed (EWMA) so one slow frame does not swing routing. */
  recordInfer(ms: number): void {
    this.#inferMs = this.#inferMs === 0 ? ms : this.#inferMs * 0.9 + ms * 0.1
  }

  get inferMs(): number {
    return this.#inferMs
  }

  p95(now = Date.now()): number {
    if (now >= this.#p95.at && now - this.#p95.at < P95_REUSE_MS) return this.#p95.value
    const recent = new Float64Array(this.#count)
    let n = 0
    for (let i = 0; i < this.#count; i++) if (now - this.#at[i]! <= WINDOW_MS) recent[n++] = this.#ms[i]!
    const value = n === 0 ? 0 : recent.subarray(0, n).sort()[Math.min(n - 1, Math.floor(n * 0.95))]!
    this.#p95 = { at: now, value }
    return value
  }

  /** Frames ahead of a new one, spread over the workers, each taking the model's time. */
  estimatedWaitMs(): number {
    if (this.paused) return Number.MAX_SAFE_INTEGER / 1e6 // effectively "do not wait for me"
    return ((this.queueDepth + this.inFlight) * this.#inferMs) / Math.max(1, this.workers)
  }

  report(policy: RoutingPolicy, now = Date.now()): LoadReport {
    return {
      at: now,
      queueDepth: this.queueDepth,
      inFlight: this.inFlight,
      workers: this.workers,
      p95Ms: round(this.p95(now)),
      estimatedWaitMs: round(this.estimatedWaitMs()),
      serverInferMs: round(this.#inferMs),
      policy,
      paused: this.paused,
      offload: this.offload,
    }
  }
}

const round = (v: number) => Math.round(v * 10) / 10
