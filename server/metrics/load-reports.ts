/**
 * The load loop: poll the queue depth, update the load tracker and the Prometheus gauges, and send
 * every station its load report, so the browser's router can shift work between browser and server.
 */
import type { Logger } from '../log.ts'
import type { FrameQueue } from '../queue/types.ts'
import type { LoadTracker } from './load.ts'
import type { Metrics } from './metrics.ts'

export interface LoadReportDeps {
  queue: Pick<FrameQueue, 'depth'>
  load: LoadTracker
  metrics: Metrics
  log: Logger
  /** Frames waiting for a result in this process. */
  waiting(): number
  /** Inference workers in this process, undefined where none run. */
  workers(): number | undefined
  stations(): Iterable<{ sendLoad(): void }>
}

/** Returns the stop. */
export function startLoadReports(deps: LoadReportDeps, intervalMs: number): () => void {
  const { queue, load, metrics, log } = deps
  const timer = setInterval(() => {
    queue
      .depth()
      .then((d) => {
        load.queueDepth = d.live
        load.inFlight = deps.waiting()
        load.workers = deps.workers() ?? load.workers
        metrics.queueDepth.set({ queue: 'live' }, d.live)
        metrics.queueDepth.set({ queue: 'batch' }, d.batch)
        metrics.queueDepth.set({ queue: 'unacked' }, d.unacked)
        metrics.queueDepth.set({ queue: 'dead' }, d.deadLetters)
        for (const st of deps.stations()) st.sendLoad()
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'queue depth unavailable'))
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
