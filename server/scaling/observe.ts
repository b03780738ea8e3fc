/**
 * What the live supervisor sees each tick, read from what the process already tracks: the live
 * queue's depth, the LoadTracker's one-minute p95, and frames/s per line from the
 * linesight_frames_received_total counter (source "browser" apart), as the increase over a
 * trailing window of the ticks' snapshots.
 */
import type { Metrics } from '../metrics/metrics.ts'
import type { FrameQueue } from '../queue/types.ts'
import type { LoadTracker } from '../metrics/load.ts'
import type { LineLoad } from './policy.ts'

export interface Observed {
  queueDepth: number
  p95Ms: number
  lines: LineLoad[]
  offloadActive: boolean
}

interface Snapshot {
  at: number
  /** line -> [server frames, browser frames], cumulative. */
  counts: Map<string, [number, number]>
  offload: boolean
}

export class LiveObserver {
  readonly #snapshots: Snapshot[] = []

  constructor(
    private readonly deps: { queue: Pick<FrameQueue, 'depth'>; load: Pick<LoadTracker, 'p95' | 'offload'>; metrics: Pick<Metrics, 'framesReceived'> },
    /** Frames/s are measured over this many ms (the HPA reads a one-minute rate too). */
    private readonly windowMs = 60_000,
  ) {}

  async observe(now: number): Promise<Observed> {
    const depth = await this.deps.queue.depth()
    const snap: Snapshot = { at: now, counts: await this.#counts(), offload: this.deps.load.offload }
    this.#snapshots.push(snap)
    // keep the newest snapshot at least windowMs old, so the rate covers the whole window
    while (this.#snapshots.length > 2 && this.#snapshots[1]!.at <= now - this.windowMs) this.#snapshots.shift()
    const oldest = this.#snapshots[0]!
    const seconds = (now - oldest.at) / 1000
    const lines: LineLoad[] = []
    for (const [line, [server, browser]] of snap.counts) {
      const [s0, b0] = oldest.counts.get(line) ?? [0, 0]
      lines.push({ line, serverFps: seconds > 0 ? Math.max(0, server - s0) / seconds : 0, browserFps: seconds > 0 ? Math.max(0, browser - b0) / seconds : 0 })
    }
    return {
      queueDepth: depth.live,
      p95Ms: this.deps.load.p95(now),
      lines,
      // browser frames of the window count as demand if offload was on at any point of it
      offloadActive: this.#snapshots.some((s) => s.offload),
    }
  }

  async #counts(): Promise<Map<string, [number, number]>> {
    const out = new Map<string, [number, number]>()
    for (const v of (await this.deps.metrics.framesReceived.get()).values) {
      const line = v.labels.line
      if (typeof line !== 'string') continue
      const c = out.get(line) ?? [0, 0]
      if (v.labels.source === 'browser') c[1] += v.value
      else c[0] += v.value
      out.set(line, c)
    }
    return out
  }
}
