/**
 * Accepting a frame, whatever it came through (station WebSocket, HTTP detect, upload job):
 * count it, put it on the queue, and let the caller wait for its outcome.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { CodedError } from '../errors.ts'
import type { Metrics } from '../metrics/metrics.ts'
import { QueueFullError, type FrameQueue, type Priority } from '../queue/types.ts'
import type { ResultHub } from '../results/hub.ts'
import { toQueueMessage, type FrameJob } from '../queue/frame-job.ts'

export interface IngestDeps {
  queue: FrameQueue
  hub: ResultHub
  metrics: Metrics
  liveFrameTtlMs: number
}

/** Why a frame was not queued, as the protocol's ack statuses see it. */
export class FrameRefused extends CodedError {
  override name = 'FrameRefused'
  constructor(
    readonly status: 'busy' | 'rejected',
    readonly error: WireError,
  ) {
    super(error.code, error.message)
  }
}

/** A frame that was queued and came back without a result (undecodable, dead-lettered...). */
export class FrameFailed extends CodedError {
  override name = 'FrameFailed'
}

export class FrameIngest {
  constructor(private readonly deps: IngestDeps) {}

  /**
   * Resolves once the frame is queued (broker-confirmed); rejects with FrameRefused.
   * `durable: false` where the sender keeps the frame until its outcome (PublishOptions).
   */
  async submit(job: FrameJob, priority: Priority = 'live', { durable = true }: { durable?: boolean } = {}): Promise<void> {
    const { queue, metrics, liveFrameTtlMs } = this.deps
    metrics.framesReceived.inc({ line: job.line, source: job.source })
    try {
      await queue.publish(toQueueMessage(job), { priority, durable, ...(priority === 'live' ? { ttlMs: liveFrameTtlMs } : {}) })
    } catch (err) {
      if (err instanceof QueueFullError) {
        metrics.framesDropped.inc({ reason: 'busy' })
        throw new FrameRefused('busy', { code: 'busy', message: err.message })
      }
      metrics.framesDropped.inc({ reason: 'unavailable' })
      throw new FrameRefused('busy', { code: 'unavailable', message: `queue unavailable: ${(err as Error).message}` })
    }
  }

  /**
   * HTTP detect: queue the frame and wait for its result. Not journaled (`durable: false`): the
   * caller holds the frame and is answered only with its result or an error, so after a crash it
   * sends the frame again, and a replayed copy would only make a record nobody asked for.
   */
  async detect(job: FrameJob, timeoutMs: number, signal?: AbortSignal): Promise<InspectionResult> {
    const release = await this.deps.hub.holdLine(job.line)
    try {
      return await this.#detect(job, timeoutMs, signal)
    } finally {
      release()
    }
  }

  #detect(job: FrameJob, timeoutMs: number, signal?: AbortSignal): Promise<InspectionResult> {
    return new Promise<InspectionResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop()
        reject(new CodedError('timeout', `no result within ${timeoutMs} ms`))
      }, timeoutMs)
      const stop = this.deps.hub.wait(job.frameId, {
        result: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
        failed: (e) => {
          clearTimeout(timer)
          reject(new FrameFailed(e.code, e.message))
        },
      })
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        stop()
      })
      this.submit(job, 'live', { durable: false }).catch((err: unknown) => {
        clearTimeout(timer)
        stop()
        reject(err instanceof Error ? err : new Error(String(err)))
      })
    })
  }
}
