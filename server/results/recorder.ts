/**
 * Every result, wherever it was inferred, goes through here: stored once (idempotent by frame
 * id), counted once, then handed to the result bus for stations and kiosks.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { RecordOptions, ResultStore } from '../storage/types.ts'
import type { ResultBus } from './bus.ts'

export interface RecorderDeps {
  store: ResultStore
  bus: ResultBus
  metrics: Metrics
}

export class Recorder {
  readonly #onNew = new Set<(result: InspectionResult) => Promise<void>>()

  constructor(private readonly deps: RecorderDeps) {}

  /**
   * Called once per frame, when its first record was written (upload jobs count frames here).
   * Awaited before the result is published; a listener that rejects fails the record.
   */
  onNew(listener: (result: InspectionResult) => Promise<void>): () => void {
    this.#onNew.add(listener)
    return () => this.#onNew.delete(listener)
  }

  /** Returns false when the frame was already recorded (a retry or an outbox replay). */
  async record(result: InspectionResult, image?: { mime: string; bytes: Uint8Array; thumbnail?: Uint8Array }, opts?: RecordOptions): Promise<boolean> {
    const { store, bus, metrics } = this.deps
    const started = Date.now()
    // the store applies STORE_IMAGES / STORE_ORIGINALS and makes the thumbnail
    const isNew = await store.record(result, image ? { mime: image.mime, original: image.bytes, ...(image.thumbnail ? { thumbnail: image.thumbnail } : {}) } : undefined, opts)
    if (isNew) {
      metrics.resultsRecorded.inc()
      metrics.results.inc({ line: result.line, verdict: result.verdict, where: result.inferredAt })
      for (const d of result.detections) metrics.detections.inc({ line: result.line, class: d.class })
      if (result.audit) {
        const outcome = result.verdict === 'fail' ? 'defect' : 'clean'
        metrics.prefilterAudit.inc({ line: result.line, outcome })
        // both outcomes exist from the first audit on, so the first miss shows up in rate()
        metrics.prefilterAudit.inc({ line: result.line, outcome: outcome === 'defect' ? 'clean' : 'defect' }, 0)
      }
      for (const listener of this.#onNew) await listener(result)
    }
    // Published even when it was a duplicate: the station waiting for this frame id still needs
    // its answer (the first delivery's worker may have died before publishing). The stations see
    // how long the write took; the stored copy, written before, cannot.
    const recordMs = Date.now() - started
    metrics.stageSeconds.observe({ stage: 'record' }, recordMs / 1000)
    await bus.publish(result.inferredAt === 'server' ? { ...result, timings: { ...result.timings, record: recordMs } } : result)
    return isNew
  }
}
