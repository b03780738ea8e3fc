/**
 * The review queue and the reviews themselves. A frame enters the queue once (its reasons
 * accumulate); a review is appended, never updated, and written in one transaction with its
 * audit entry and the queue row it closes. The frame's own record is never touched.
 *
 * Entries are made from the stored record (INSERT ... SELECT FROM results), so a frame with no
 * record cannot be queued and line/capture time are the record's, not the caller's.
 */
import { REVIEW_REASONS, REVIEW_STATUSES, type Review, type ReviewedDetection, type ReviewQueueItem, type ReviewReason, type ReviewStatus } from '../../shared/domain/review.ts'
import type { AuditLog } from './audit.ts'
import { decodeCursor, pageSize } from './cursor.ts'
import { invalid } from './errors.ts'
import type { Db } from './sql.ts'
import { keysetPage, Where } from './where.ts'

export interface ReviewQueueQuery {
  line?: string
  /** A token's lines; intersected with `line`. */
  lines?: readonly string[]
  status?: ReviewStatus
  /** @default 50, at most 500 */
  limit?: number
  cursor?: string
}

export interface NewReview {
  frameId: string
  verdict: 'pass' | 'fail'
  detections: ReviewedDetection[]
  reviewer: string
}

export interface ReviewedRange {
  line: string
  /** Inclusive, ms (capture time). */
  from?: number
  /** Exclusive. */
  to?: number
  /** @default 500, at most 5000 */
  limit?: number
  cursor?: string
}

interface QueueRow {
  frame_id: string
  line: string
  captured_at: number
  reasons: string
  status: ReviewStatus
  queued_at: number
  flagged_by: string | null
  note: string | null
}

interface ReviewRow {
  id: number
  frame_id: string
  line: string
  captured_at: number
  verdict: 'pass' | 'fail'
  detections: string
  reviewer: string
  at: number
}

const QUEUE_COLUMNS = 'q.frame_id, q.line, q.captured_at, q.reasons, q.status, q.queued_at, q.flagged_by, q.note'
const REVIEW_COLUMNS = 'id, frame_id, line, captured_at, verdict, detections, reviewer, at'

function toReview(r: ReviewRow): Review {
  return {
    id: Number(r.id),
    frameId: r.frame_id,
    line: r.line,
    capturedAt: Number(r.captured_at),
    verdict: r.verdict,
    detections: JSON.parse(r.detections) as ReviewedDetection[],
    reviewer: r.reviewer,
    at: Number(r.at),
  }
}

function toItem(r: QueueRow): ReviewQueueItem {
  const item: ReviewQueueItem = {
    frameId: r.frame_id,
    line: r.line,
    capturedAt: Number(r.captured_at),
    reasons: r.reasons.split(',').filter((x): x is ReviewReason => (REVIEW_REASONS as readonly string[]).includes(x)),
    status: r.status,
    queuedAt: Number(r.queued_at),
  }
  if (r.flagged_by !== null) item.flaggedBy = r.flagged_by
  if (r.note !== null) item.note = r.note
  return item
}

const reason = (r: ReviewReason) => {
  if (!REVIEW_REASONS.includes(r)) throw invalid(`reason must be one of ${REVIEW_REASONS.join(', ')}`)
  return r
}

export class ReviewStore {
  constructor(
    readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Puts a recorded frame in the queue for `why` (or adds the reason to its entry). A frame
   * already reviewed stays reviewed. False when there is no record of the frame.
   */
  async enqueue(frameId: string, why: ReviewReason, flag?: { by: string; note?: string }): Promise<boolean> {
    reason(why)
    return this.db.transaction(async (tx) => {
      const existing = await tx.one<{ reasons: string }>('SELECT reasons FROM review_queue WHERE frame_id = $1', [frameId])
      if (existing) {
        const reasons = new Set(existing.reasons.split(','))
        reasons.add(why)
        await tx.run(
          `UPDATE review_queue SET reasons = $2, flagged_by = COALESCE($3, flagged_by), note = COALESCE($4, note)
           ${why === 'flag' ? ", status = 'open'" : ''} WHERE frame_id = $1`,
          [frameId, [...reasons].sort().join(','), flag?.by ?? null, flag?.note ?? null],
        )
        return true
      }
      const n = await tx.run(
        `INSERT INTO review_queue (frame_id, line, captured_at, reasons, status, queued_at, flagged_by, note)
         SELECT frame_id, line, captured_at, $2, 'open', $3, $4, $5 FROM results WHERE frame_id = $1
         ON CONFLICT (frame_id) DO NOTHING`,
        [frameId, why, Date.now(), flag?.by ?? null, flag?.note ?? null],
      )
      return n > 0
    })
  }

  /**
   * Appends a review, closes the frame's queue entry (making one when the reviewer came to the
   * frame some other way) and audits it, all or nothing. Null when there is no record of the frame.
   */
  async add(r: NewReview): Promise<Review | null> {
    if (typeof r.reviewer !== 'string' || !r.reviewer) throw invalid('reviewer is required')
    return this.db.transaction(async (tx) => {
      const frame = await tx.one<{ line: string; captured_at: number; verdict: string }>('SELECT line, captured_at, verdict FROM results WHERE frame_id = $1', [r.frameId])
      if (!frame) return null
      const row = await tx.one<ReviewRow>(
        `INSERT INTO reviews (frame_id, line, captured_at, verdict, detections, reviewer, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${REVIEW_COLUMNS}`,
        [r.frameId, frame.line, frame.captured_at, r.verdict, JSON.stringify(r.detections), r.reviewer, Date.now()],
      )
      if (!row) throw new Error('INSERT ... RETURNING returned no row')
      await tx.run(
        `INSERT INTO review_queue (frame_id, line, captured_at, reasons, status, queued_at) VALUES ($1, $2, $3, '', 'reviewed', $4)
         ON CONFLICT (frame_id) DO UPDATE SET status = 'reviewed'`,
        [r.frameId, frame.line, frame.captured_at, Date.now()],
      )
      const review = toReview(row)
      await this.audit.appendIn(tx, {
        actor: r.reviewer,
        action: 'review.add',
        target: r.frameId,
        before: { verdict: frame.verdict },
        after: { verdict: review.verdict, detections: review.detections.length, review: review.id },
      })
      return review
    })
  }

  /** The frame's reviews, oldest first. */
  async history(frameId: string): Promise<Review[]> {
    return (await this.db.all<ReviewRow>(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE frame_id = $1 ORDER BY id`, [frameId])).map(toReview)
  }

  /** The queue, newest capture first, each entry with its latest review. */
  async list(q: ReviewQueueQuery = {}): Promise<{ items: ReviewQueueItem[]; nextCursor?: string }> {
    const limit = pageSize(q.limit, 50, 500)
    const w = Where.forLines(q, 'q.line')
    if (!w) return { items: [] }
    if (q.status !== undefined) {
      if (!REVIEW_STATUSES.includes(q.status)) throw invalid(`status must be one of ${REVIEW_STATUSES.join(', ')}`)
      w.clauses.push(`q.status = ${w.p(q.status)}`)
    }
    if (q.cursor !== undefined) {
      const [capturedAt, frameId] = decodeCursor(q.cursor, ['number', 'string'] as const)
      w.clauses.push(`(q.captured_at, q.frame_id) < (${w.p(capturedAt)}, ${w.p(frameId)})`)
    }
    const rows = await this.db.all<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM review_queue q ${w.sql} ORDER BY q.captured_at DESC, q.frame_id DESC LIMIT ${w.p(limit + 1)}`, w.params)
    const page = keysetPage(rows, limit, toItem, (item) => [item.capturedAt, item.frameId])
    const latest = await this.#latest(page.items.map((i) => i.frameId))
    for (const item of page.items) {
      const r = latest.get(item.frameId)
      if (r) item.review = r
    }
    return page
  }

  /** Open entries per line, for the backlog gauge. */
  async backlog(): Promise<{ line: string; open: number }[]> {
    const rows = await this.db.all<{ line: string; n: number }>(`SELECT line, COUNT(*) AS n FROM review_queue WHERE status = 'open' GROUP BY line ORDER BY line`)
    return rows.map((r) => ({ line: r.line, open: Number(r.n) }))
  }

  /**
   * The latest review of every reviewed frame of a line captured in [from, to), oldest capture
   * first, a page at a time (dataset export walks it without holding the whole range).
   */
  async latestInRange(q: ReviewedRange): Promise<{ items: Review[]; nextCursor?: string }> {
    const limit = pageSize(q.limit, 500, 5000)
    const w = new Where()
    w.clauses.push(`r.line = ${w.p(q.line)}`, `r.id = (SELECT MAX(id) FROM reviews x WHERE x.frame_id = r.frame_id)`)
    w.timeRange('r.captured_at', q)
    if (q.cursor !== undefined) {
      const [capturedAt, frameId] = decodeCursor(q.cursor, ['number', 'string'] as const)
      w.clauses.push(`(r.captured_at, r.frame_id) > (${w.p(capturedAt)}, ${w.p(frameId)})`)
    }
    const rows = await this.db.all<ReviewRow>(
      `SELECT ${REVIEW_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')} FROM reviews r ${w.sql} ORDER BY r.captured_at, r.frame_id LIMIT ${w.p(limit + 1)}`,
      w.params,
    )
    return keysetPage(rows, limit, toReview, (review) => [review.capturedAt, review.frameId])
  }

  /** The latest review of each of these frames. */
  async latest(frameIds: readonly string[]): Promise<Map<string, Review>> {
    return this.#latest(frameIds)
  }

  async #latest(frameIds: readonly string[]): Promise<Map<string, Review>> {
    const out = new Map<string, Review>()
    if (!frameIds.length) return out
    const ids = frameIds.map((_, i) => `$${i + 1}`).join(', ')
    const rows = await this.db.all<ReviewRow>(
      `SELECT ${REVIEW_COLUMNS} FROM reviews WHERE id IN (SELECT MAX(id) FROM reviews WHERE frame_id IN (${ids}) GROUP BY frame_id)`,
      [...frameIds],
    )
    for (const r of rows) out.set(r.frame_id, toReview(r))
    return out
  }
}
