/**
 * Every result, wherever it was inferred, goes through here: stored once (idempotent by frame
 * id), counted once, then handed to the result bus for stations and kiosks.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { ResultStore } from '../storage/types.ts'
import type { ResultBus } from './bus.ts'

export interface RecorderDeps {
  store: ResultStore
  bus: ResultBus
  metrics: Metrics
}

export class Recorder {
  constructor(private readonly deps: RecorderDeps) {}

  /** Returns false when the frame was already recorded (a retry or an outbox replay). */
  async record(result: InspectionResult, image?: { mime: string; bytes: Uint8Array }): Promise<boolean> {
    const { store, bus, metrics } = this.deps
    // the store applies STORE_IMAGES / STORE_ORIGINALS and makes the thumbnail
    const isNew = await store.record(result, image ? { mime: image.mime, original: image.bytes } : undefined)
    if (isNew) {
      metrics.resultsRecorded.inc()
      metrics.results.inc({ line: result.line, verdict: result.verdict, where: result.inferredAt })
      for (const d of result.detections) metrics.detections.inc({ line: result.line, class: d.class })
      if (result.audit) metrics.prefilterAudit.inc({ line: result.line, outcome: result.verdict === 'fail' ? 'defect' : 'clean' })
    }
    // Published even when it was a duplicate: the station waiting for this frame id still needs
    // its answer (the first delivery's worker may have died before publishing).
    await bus.publish(result)
    return isNew
  }
}
