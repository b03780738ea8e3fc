/**
 * The review queue as the rest of the server uses it: queue a frame for a reason, record a
 * review, and count them in the metrics (the backlog when Prometheus scrapes).
 */
import type { Review, ReviewedDetection, ReviewReason } from '../../shared/domain/review.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { ReviewStore } from '../storage/reviews.ts'

export interface ReviewServiceDeps {
  reviews: ReviewStore
  metrics: Pick<Metrics, 'reviewQueued' | 'reviews' | 'reviewBacklog' | 'onCollect'>
  log: { warn(obj: object, msg: string): void }
}

export class ReviewService {
  readonly #lines = new Set<string>()
  constructor(private readonly deps: ReviewServiceDeps) {
    // Counted when scraped. It was counted after every queued frame, on the result path: the
    // count reads every open entry (3 ms at 10,000 open, 49 ms at 100,000; bench/FINDINGS.md),
    // so a backlog nobody worked off slowed every near-threshold frame down with it.
    deps.metrics.onCollect('reviewBacklog', () => this.#readBacklog())
  }

  get store(): ReviewStore {
    return this.deps.reviews
  }

  /** False when the frame has no record (nothing is queued then). */
  async enqueue(frameId: string, line: string, reason: ReviewReason, flag?: { by: string; note?: string }): Promise<boolean> {
    const queued = await this.deps.reviews.enqueue(frameId, reason, flag)
    if (queued) this.deps.metrics.reviewQueued.inc({ line, reason })
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
    if (review) this.deps.metrics.reviews.inc({ line: review.line, outcome: review.verdict === recordedVerdict ? 'confirmed' : 'changed' })
    return review
  }

  /** A failed count (the database busy or closing) keeps the last values; the scrape still answers. */
  async #readBacklog(): Promise<void> {
    let counts: Map<string, number>
    try {
      counts = new Map((await this.deps.reviews.backlog()).map((b) => [b.line, b.open]))
    } catch (err) {
      this.deps.log.warn({ err }, 'could not count the review backlog for the metrics')
      return
    }
    // a line whose backlog emptied is not in the counts but must read 0, not its last value
    for (const line of new Set([...this.#lines, ...counts.keys()])) {
      this.#lines.add(line)
      this.deps.metrics.reviewBacklog.set({ line }, counts.get(line) ?? 0)
    }
  }
}
