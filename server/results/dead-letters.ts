/**
 * A dead-lettered frame still ends with one record: an error result, failing the part (nobody
 * inspected it). Recorded by whichever process the broker hands the dead letter to; the result
 * bus carries it to the station or HTTP request waiting for that frame, wherever they are.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { DeadLetter, FrameQueue } from '../queue/types.ts'
import type { ResultHub } from './hub.ts'
import type { Recorder } from './recorder.ts'

export interface DeadLetterDeps {
  recorder: Recorder
  hub: ResultHub
  metrics: Metrics
  log: Logger
}

export function recordDeadLetters(queue: FrameQueue, { recorder, hub, metrics, log }: DeadLetterDeps): void {
  queue.onDeadLetter((d) => {
    metrics.deadLetters.inc({ reason: d.reason })
    metrics.framesDropped.inc({ reason: d.reason === 'expired' ? 'expired' : 'dead_letter' })
    // returned: the embedded queue keeps the frame in its journal until its record is written, and
    // after a failure, for the next start to dead-letter and record it again
    return recorder.record(deadLetterResult(d)).catch((err: unknown) => {
      log.error({ err, frameId: d.message.id }, 'recording a dead letter failed')
      hub.fail(d.message.id, { code: deadLetterCode(d), message: `frame dead-lettered (${d.reason})${d.error ? `: ${d.error}` : ''}` })
      throw err
    })
  })
}

export function deadLetterResult(d: DeadLetter): InspectionResult {
  const h = d.message.headers
  const str = (k: string, fallback: string) => (typeof h[k] === 'string' ? (h[k] as string) : fallback)
  return {
    frameId: d.message.id,
    line: str('line', 'unknown'),
    station: str('station', 'unknown'),
    capturedAt: typeof h.capturedAt === 'number' ? h.capturedAt : d.deadAt,
    model: { name: str('model', 'none'), version: 'none' },
    inferredAt: 'server',
    ep: 'none',
    detections: [],
    // a part nobody could inspect must not pass
    verdict: 'fail',
    timings: {},
    source: (str('source', 'ws') as InspectionResult['source'])!,
    error: { code: deadLetterCode(d), message: d.error ?? String(d.reason) },
    ...(typeof h.jobId === 'string' ? { jobId: h.jobId } : {}),
    ...(typeof h.partId === 'string' ? { partId: h.partId } : {}),
  }
}

/** The processor nacks with `<InferenceErrorCode>: <message>`; keep that code for the sender. */
export function deadLetterCode(d: DeadLetter): string {
  if (d.reason === 'expired') return 'expired'
  const code = d.error?.match(/^([a-z_]+):/)?.[1]
  return code && code !== 'internal' ? code : 'dead_letter'
}
