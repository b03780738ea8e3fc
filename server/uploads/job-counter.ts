/**
 * Counts the frames of upload jobs as they finish, in whichever process records them (an
 * inference worker, or the one process of the embedded setup):
 *  - done: when the recorder wrote a frame's first record (a redelivered frame is not new, so it
 *    never counts twice);
 *  - failed: when the queue dead-lettered the frame (it failed on every delivery). The error
 *    result recorded for a dead letter is not counted again.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { DeadLetter, FrameQueue } from '../queue/types.ts'
import type { Recorder } from '../results/recorder.ts'
import type { JobStore } from '../storage/jobs.ts'

export interface CounterLog {
  error(obj: object, msg: string): void
}

export class JobCounter {
  readonly #listeners = new Set<(jobId: string) => void>()
  readonly #stops: (() => void)[] = []

  constructor(
    private readonly jobs: JobStore,
    private readonly log: CounterLog,
  ) {}

  start(recorder: Recorder, queue: FrameQueue): void {
    this.#stops.push(recorder.onNew((r) => this.#recorded(r)))
    this.#stops.push(queue.onDeadLetter((d) => void this.#deadLettered(d)))
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop()
  }

  /** Local progress of any job (feeders wake up on it instead of polling only). */
  onProgress(listener: (jobId: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #recorded(r: InspectionResult): Promise<void> {
    if (!r.jobId || r.error) return
    await this.#count(r.jobId, { done: 1 }, r.frameId)
  }

  async #deadLettered(d: DeadLetter): Promise<void> {
    const jobId = d.message.headers.jobId
    if (typeof jobId !== 'string') return
    await this.#count(jobId, { failed: 1 }, d.message.id)
  }

  /** Never rejects: a count that cannot be written is logged, and the frame's own record stands. */
  async #count(jobId: string, by: { done?: number; failed?: number }, frameId: string): Promise<void> {
    try {
      const job = await this.jobs.progress(jobId, by)
      if (!job) this.log.error({ jobId, frameId }, 'a frame names a job that does not exist; not counted')
    } catch (err) {
      this.log.error({ err, jobId, frameId }, 'counting a job frame failed; the job will stay short of its total')
    }
    for (const l of this.#listeners) l(jobId)
  }
}
