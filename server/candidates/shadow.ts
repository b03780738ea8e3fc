/**
 * Runs a line's candidate model in shadow, on spare capacity only. The processor offers a frame
 * after its verdict was recorded and acknowledged; nothing here is awaited by the verdict path.
 * The candidate runs on an engine of its own (server/wiring/engine.ts `openCandidateEngine`:
 * worker threads apart from the verdict workers, at the lowest CPU priority), so a candidate
 * inference never holds a verdict worker, and the kernel takes the core back from it whenever a
 * verdict worker wants one. A frame is sampled by a hash of its id (the line's `candidate.share`),
 * and run only while a candidate worker is idle, no live frame is held by the processor, and
 * fewer than CANDIDATE_MAX_IN_FLIGHT candidate inferences run; otherwise it is skipped and counted.
 */
import { createHash } from 'node:crypto'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { verdictOf } from '../../shared/domain/verdict.ts'
import { stationInspection } from '../../shared/domain/inspection.ts'
import { withinRoi, type RoiRect } from '../../shared/domain/roi.ts'
import { matchDetections } from '../../shared/inference/match.ts'
import type { InferenceEngine } from '../inference/types.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { ReviewService } from '../review/service.ts'
import type { LineSettingsService } from '../lines/line-settings.ts'
import type { CandidateStore } from '../storage/candidates.ts'

export interface ShadowDeps {
  /** The candidate engine, never the one that serves verdicts. */
  engine: InferenceEngine & { retain(models: ReadonlySet<string>): Promise<void> }
  candidates: CandidateStore
  settings: LineSettingsService
  metrics: Pick<Metrics, 'candidateFrames' | 'candidateAgreement'>
  review: ReviewService
  maxInFlight: number
  /** Live frames the processor holds right now, the one being offered included. */
  liveInFlight(): number
  log: { warn(obj: object, msg: string): void }
}

/** Same frame id, same answer, in every process: a frame is in the share or not. */
export function inShare(frameId: string, share: number): boolean {
  return createHash('sha256').update(frameId).digest().readUInt32BE(0) / 2 ** 32 < share
}

export class ShadowRunner {
  #inFlight = 0
  readonly #running = new Set<Promise<void>>()
  #closed = false
  readonly #unsubscribe: () => void

  constructor(private readonly deps: ShadowDeps) {
    // a discarded or promoted candidate's sessions are released on the candidate workers
    this.#unsubscribe = deps.settings.onChange(() => {
      const wanted = new Set(deps.settings.list().flatMap((s) => (s.candidate ? [s.candidate.model] : [])))
      deps.engine.retain(wanted).catch((err: unknown) => deps.log.warn({ err }, 'unloading candidate models failed'))
    })
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** Takes no more frames and waits for the candidate inferences running (before the engine and the store close). */
  async close(): Promise<void> {
    this.#closed = true
    this.#unsubscribe()
    await Promise.allSettled([...this.#running])
  }

  /** Asked before inference: should the processor keep a copy of this frame's bytes? */
  wants(line: string, frameId: string): boolean {
    const c = this.deps.settings.get(line).candidate
    return this.deps.maxInFlight > 0 && !!c && inShare(frameId, c.share)
  }

  /** Offered after the verdict was recorded; runs in the background or is skipped. */
  offer(image: Uint8Array, current: InspectionResult): void {
    const { settings, engine, metrics } = this.deps
    const line = settings.get(current.line)
    const c = line.candidate
    // promoted or discarded since the frame was sampled, or the deciding model already ran on it
    if (this.#closed || !c || c.model === current.model.name) return
    // the candidate workers' own status: the verdict workers are not looked at, the candidate never takes one
    const status = engine.status()
    if (this.#inFlight >= this.deps.maxInFlight || status.busyWorkers >= status.workers || this.deps.liveInFlight() > 1) {
      metrics.candidateFrames.inc({ line: current.line, outcome: 'skipped_busy' })
      return
    }
    this.#inFlight++
    const roi = stationInspection(line.inspection, current.station).roi
    const run = this.#run(image, current, c.model, line.scoreThresholds, roi).finally(() => {
      this.#inFlight--
      this.#running.delete(run)
    })
    this.#running.add(run)
  }

  async #run(image: Uint8Array, current: InspectionResult, model: string, scoreThresholds: Record<string, number>, roi: RoiRect[] | undefined): Promise<void> {
    const { engine, candidates, metrics, review, log } = this.deps
    try {
      const out = await engine.infer({ frameId: current.frameId, image, model, scoreThresholds })
      // the station's region of interest holds for the candidate as for the current model (fractions of the frame)
      const detections = withinRoi(out.detections, out.width, out.height, roi)
      const verdict = verdictOf(detections, out.defectClasses)
      const m = matchDetections(current.detections, detections)
      const agrees = verdict === current.verdict && m.onlyA === 0 && m.onlyB === 0
      const stored = await candidates.record({ frameId: current.frameId, model: out.model.name, version: out.model.version, line: current.line, capturedAt: current.capturedAt, verdict, detections, agrees })
      if (!stored) return // a redelivered frame: counted the first time
      metrics.candidateFrames.inc({ line: current.line, outcome: 'inferred' })
      metrics.candidateAgreement.inc({ line: current.line, result: agrees ? 'agree' : 'disagree' })
      if (!agrees) review.enqueueInBackground(current.frameId, current.line, 'candidate')
    } catch (err) {
      metrics.candidateFrames.inc({ line: current.line, outcome: 'failed' })
      log.warn({ err, frameId: current.frameId, model }, 'candidate inference failed; the current verdict stands')
    }
  }
}
