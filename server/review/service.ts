/**
 * The review queue as the rest of the server uses it: queue a frame for a reason, record a
 * review, and keep the backlog metrics in step with both.
 */
import type { Review, ReviewedDetection, ReviewReason } from '../../shared/domain/review.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { ReviewStore } from '../storage/reviews.ts'

export interface ReviewServiceDeps {
  reviews: ReviewStore
  metrics: Pick<Metrics, 'reviewQueued' | 'reviews' | 'reviewBacklog'>
  log: { warn(obj: object, msg: string): void }
}

export class ReviewService {
  readonly #lines = new Set<string>()
  /** The backlog query running now, and the one callers who came during it wait for. */
  #refresh: Promise<void> | null = null
  #nextRefresh: Promise<void> | null = null
  constructor(private readonly deps: ReviewServiceDeps) {}

  get store(): ReviewStore {
    return this.deps.reviews
  }

  /** False when the frame has no record (nothing is queued then). */
  async enqueue(frameId: string, line: string, reason: ReviewReason, flag?: { by: string; note?: string }): Promise<boolean> {
    const queued = await this.deps.reviews.enqueue(frameId, reason, flag)
    if (queued) {
      this.deps.metrics.reviewQueued.inc({ line, reason })
      await this.#refreshBacklog()
    }
    return queued
  }

  /**
   * For the result path: queues without making the caller wait, so a verdict is never held up
   * by the review queue; a failure is logged, the frame's record is unaffected.
   */
  enqueueInBackground(frameId: string, line: string, reason: ReviewReason): void {
    this.enqueue(frameId, line, reason).catch((err: unknown) => this.deps.log.warn({ err, frameId, reason }, 'could not queue a frame for review'))
  }

  async review(r: { frameId: string; verdict: 'pass' | 'fail'; detections: ReviewedDetection[]; reviewer: string }, recordedVerdict: 'pass' | 'fail'): Promise<Review | null> {
    const review = await this.deps.reviews.add(r)
    if (review) {
      this.deps.metrics.reviews.inc({ line: review.line, outcome: review.verdict === recordedVerdict ? 'confirmed' : 'changed' })
      await this.#refreshBacklog()
    }
    return review
  }

  /**
   * Brings the backlog gauge up to date. Called for every queued frame (near-threshold frames can
   * come at the line's frame rate), so refreshes coalesce: while one runs, every caller shares the
   * single next one, which starts after it and so sees all their changes. One backlog query in
   * flight at a time, however fast frames are queued.
   */
  #refreshBacklog(): Promise<void> {
    if (this.#nextRefresh) return this.#nextRefresh
    if (!this.#refresh) {
      this.#refresh = this.#readBacklog().finally(() => (this.#refresh = null))
      return this.#refresh
    }
    const next = this.#refresh.catch(() => undefined).then(() => {
      this.#nextRefresh = null
      return this.#refreshBacklog()
    })
    this.#nextRefresh = next
    return next
  }

  async #readBacklog(): Promise<void> {
    const counts = new Map((await this.deps.reviews.backlog()).map((b) => [b.line, b.open]))
    // a line whose backlog emptied is not in the counts but must read 0, not its last value
    for (const line of new Set([...this.#lines, ...counts.keys()])) {
      this.#lines.add(line)
      this.deps.metrics.reviewBacklog.set({ line }, counts.get(line) ?? 0)
    }
  }
}
