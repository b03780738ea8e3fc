/**
 * The worker side of the queue: take a frame, infer it, record the result, publish it, and only
 * then acknowledge (at-least-once; the store's idempotency makes it exactly-one record).
 * A failure is nacked for redelivery; the queue dead-letters a frame that keeps failing.
 */
import { verdictOf } from '../../shared/domain/verdict.ts'
import { stationInspection } from '../../shared/domain/inspection.ts'
import { withinRoi } from '../../shared/domain/roi.ts'
import { uplinkBoxToFrame } from '../../shared/inference/letterbox.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { fromQueueMessage, type FrameJob } from '../queue/frame-job.ts'
import { InferenceError, type InferenceEngine } from './types.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { Consumer, Delivery, FrameQueue } from '../queue/types.ts'
import type { LineSettingsService } from '../lines/line-settings.ts'
import type { LoadTracker } from '../metrics/load.ts'
import type { Recorder } from '../results/recorder.ts'

export interface ProcessorDeps {
  queue: FrameQueue
  engine: InferenceEngine
  recorder: Recorder
  settings: LineSettingsService
  metrics: Metrics
  load?: LoadTracker
  log: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void }
  /**
   * Resolves when the database answers and has room (Store.ping, the data folder's free space). A
   * record that fails while it does not is held and retried, not nacked: a restarted database or a
   * full disk would otherwise use up every frame's delivery attempts and turn good frames into
   * dead letters nobody can record.
   */
  pingStore?: () => Promise<void>
  /** The line's candidate model in shadow (server/candidates/shadow.ts), offered each frame after its verdict. */
  shadow?: { wants(line: string, frameId: string): boolean; offer(image: Uint8Array, result: InspectionResult): void }
}

/** The station's own stage timings ride in a queue header: keep only what a timing can be. */
function validTimings(t: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  if (t) for (const k in t) if (typeof t[k] === 'number' && Number.isFinite(t[k]) && t[k] >= 0) out[k] = t[k]
  return out
}

/** How often a held record looks again for its database, at most. */
const STORE_RETRY_MAX_MS = 2000

export class Processor {
  #consumer: Consumer | undefined
  #inFlight = 0
  #closing = false

  constructor(private readonly deps: ProcessorDeps) {}

  get inFlight(): number {
    return this.#inFlight
  }

  get paused(): boolean {
    return this.#consumer?.paused ?? false
  }

  async start(prefetch: number): Promise<void> {
    this.#consumer = await this.deps.queue.consume((d) => this.#handle(d), { prefetch })
  }

  async pause(): Promise<void> {
    await this.#consumer?.pause()
    this.deps.metrics.inferencePaused.set(1)
  }

  async resume(): Promise<void> {
    await this.#consumer?.resume()
    this.deps.metrics.inferencePaused.set(0)
  }

  /** Stops taking frames, lets in-flight ones finish and be acknowledged. */
  async close(): Promise<void> {
    this.#closing = true
    await this.#consumer?.close()
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { engine, recorder, settings, metrics, load } = this.deps
    const job = fromQueueMessage(delivery.message)
    const dequeuedAt = Date.now()
    this.#inFlight++
    try {
      const line = settings.get(job.line)
      // the engine takes the bytes away to its worker: a frame sampled for the candidate keeps a copy
      const shadowImage = this.deps.shadow?.wants(job.line, job.frameId) ? job.image.slice() : undefined
      const outcome = await engine.infer({
        frameId: job.frameId,
        // the engine transfers this buffer to a worker thread: keep a copy only for images we store
        image: job.image,
        model: job.model ?? line.model,
        scoreThresholds: line.scoreThresholds,
      })
      // a model-size frame's boxes are in its own pixels; the station and the record want the camera's
      const from = job.from
      const inFrame = from ? outcome.detections.map((d) => ({ ...d, box: uplinkBoxToFrame(d.box, from, outcome) })) : outcome.detections
      const width = job.from?.width ?? outcome.width
      const height = job.from?.height ?? outcome.height
      // the station's region of interest: detections centred outside it are ignored (shared/domain/roi.ts)
      const detections = withinRoi(inFrame, width, height, stationInspection(line.inspection, job.station).roi)
      const result: InspectionResult = {
        frameId: job.frameId,
        line: job.line,
        station: job.station,
        capturedAt: job.capturedAt,
        model: outcome.model,
        inferredAt: 'server',
        ep: outcome.ep,
        detections,
        verdict: verdictOf(detections, outcome.defectClasses),
        timings: {
          ...validTimings(job.clientTimings),
          queue: Math.max(0, dequeuedAt - job.receivedAt),
          decode: outcome.timings.decode,
          infer: outcome.timings.infer,
          postprocess: outcome.timings.postprocess,
        },
        source: job.source,
        width,
        height,
      }
      if (job.jobId) result.jobId = job.jobId
      if (job.audit) result.audit = true
      if (job.partId) result.partId = job.partId
      const image = outcome.image ? { mime: job.mime, bytes: outcome.image, ...(outcome.thumbnail ? { thumbnail: outcome.thumbnail } : {}) } : undefined
      await this.#recordWhenStoreAnswers(() => recorder.record(result, image, { builtByServer: true }), job.frameId)
      await delivery.ack()
      if (shadowImage) this.deps.shadow!.offer(shadowImage, result)

      metrics.inferenceSeconds.observe({ model: outcome.model.name, ep: outcome.ep, where: 'server' }, outcome.timings.infer / 1000)
      metrics.stageSeconds.observe({ stage: 'queue' }, result.timings.queue! / 1000)
      metrics.stageSeconds.observe({ stage: 'decode' }, outcome.timings.decode / 1000)
      metrics.stageSeconds.observe({ stage: 'infer' }, outcome.timings.infer / 1000)
      metrics.stageSeconds.observe({ stage: 'postprocess' }, outcome.timings.postprocess / 1000)
      // a batch of N shares one model call: the cost per frame is its share of the call
      load?.recordInfer(outcome.timings.infer / Math.max(1, outcome.batchSize))
    } catch (err) {
      await this.#fail(delivery, job, err)
    } finally {
      this.#inFlight--
    }
  }

  /**
   * Records, and while the database does not answer, waits for it and tries again (the delivery
   * stays unacknowledged meanwhile, so a worker that dies holding it loses nothing). A failure
   * while the database answers is this frame's own, and goes the usual way (nack, then dead letter).
   */
  async #recordWhenStoreAnswers(record: () => Promise<unknown>, frameId: string): Promise<void> {
    const ping = this.deps.pingStore
    let waitMs = 100
    let warned = false
    for (;;) {
      try {
        await record()
        if (warned) this.deps.log.info?.({ frameId }, 'store back; held result recorded')
        return
      } catch (err) {
        if (!ping || this.#closing) throw err
        const down = await ping().then(
          () => false,
          () => true,
        )
        if (!down) throw err
        if (!warned) this.deps.log.warn({ frameId, err: (err as Error)?.message ?? String(err) }, 'the store cannot record (database down or data folder full); holding the result until it can')
        warned = true
        await new Promise((r) => setTimeout(r, waitMs))
        waitMs = Math.min(waitMs * 2, STORE_RETRY_MAX_MS)
      }
    }
  }

  async #fail(delivery: Delivery, job: FrameJob, err: unknown): Promise<void> {
    const reason = err instanceof InferenceError ? `${err.code}: ${err.message}` : `internal: ${(err as Error)?.message ?? String(err)}`
    this.deps.log.warn({ frameId: job.frameId, attempt: delivery.attempt, reason }, 'frame failed; nacked for redelivery')
    // Every failure is retried: the queue's delivery limit turns a frame that fails every time
    // (a poison frame) into a dead letter with this reason.
    await delivery.nack({ requeue: true, reason })
  }
}
