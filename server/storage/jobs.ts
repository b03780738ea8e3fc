/**
 * Upload inspection jobs: one row per job, counters incremented as its frames finish. The
 * increments are single UPDATE statements, so gateways and workers in several processes can
 * report at once without losing a count. A job is `done` once done + failed reaches total.
 *
 * Counting exactly once per frame is the caller's part: report a frame when `record()` said it
 * was new, so a redelivered frame does not count twice.
 */
import { randomBytes } from 'node:crypto'
import { isId } from '../../shared/domain/ids.ts'
import { decodeCursor, pageSize } from './cursor.ts'
import { invalid, StorageError } from './errors.ts'
import type { Db } from './sql.ts'
import { keysetPage, Where } from './where.ts'

export type JobStatus = 'queued' | 'running' | 'done' | 'failed'

export interface Job {
  id: string
  line: string
  status: JobStatus
  total: number
  done: number
  failed: number
  createdAt: number
  finishedAt?: number
  createdBy: string
  /** Why the job failed as a whole (the upload could not be read), when it did. */
  error?: string
}

export interface NewJob {
  /** Generated when absent. */
  id?: string
  line: string
  total: number
  createdBy: string
}

export interface JobQuery {
  line?: string
  lines?: readonly string[]
  status?: JobStatus
  /** @default 50, at most 500 */
  limit?: number
  cursor?: string
}

interface Row {
  id: string
  line: string
  status: JobStatus
  total: number
  done: number
  failed: number
  created_at: number
  finished_at: number | null
  created_by: string
  error: string | null
}

const COLUMNS = 'id, line, status, total, done, failed, created_at, finished_at, created_by, error'
const STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed']

function toJob(r: Row): Job {
  const j: Job = { id: r.id, line: r.line, status: r.status, total: Number(r.total), done: Number(r.done), failed: Number(r.failed), createdAt: Number(r.created_at), createdBy: r.created_by }
  if (r.finished_at !== null) j.finishedAt = Number(r.finished_at)
  if (r.error !== null) j.error = r.error
  return j
}

const nonNegativeInt = (name: string, v: unknown) => {
  if (!Number.isInteger(v) || (v as number) < 0) throw invalid(`${name} must be an integer >= 0`)
  return v as number
}

export class JobStore {
  constructor(readonly db: Db) {}

  async create(j: NewJob): Promise<Job> {
    const id = j.id ?? `job-${randomBytes(8).toString('hex')}`
    if (!isId(id)) throw invalid('job id must be an id')
    if (!isId(j.line)) throw invalid('line must be a line id')
    if (typeof j.createdBy !== 'string' || !j.createdBy) throw invalid('createdBy is required')
    const total = nonNegativeInt('total', j.total)
    const row = await this.db.one<Row>(
      `INSERT INTO jobs (id, line, status, total, done, failed, created_at, created_by) VALUES ($1, $2, 'queued', $3, 0, 0, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [id, j.line, total, Date.now(), j.createdBy],
    )
    if (!row) throw new StorageError('conflict', `a job with id ${id} exists already`)
    return toJob(row)
  }

  /**
   * Adds to the counters; the first report makes the job `running`, the one that completes it
   * makes it `done`. Returns the job after the change, or null when there is no such job.
   */
  async progress(id: string, by: { done?: number; failed?: number }): Promise<Job | null> {
    const done = nonNegativeInt('done', by.done ?? 0)
    const failed = nonNegativeInt('failed', by.failed ?? 0)
    // every column on the right-hand side is the value before this UPDATE (both engines)
    const row = await this.db.one<Row>(
      `UPDATE jobs SET
         done = done + $2,
         failed = failed + $3,
         status = CASE WHEN status = 'failed' THEN status WHEN done + $2 + failed + $3 >= total THEN 'done' ELSE 'running' END,
         finished_at = CASE WHEN finished_at IS NULL AND status <> 'failed' AND done + $2 + failed + $3 >= total THEN $4 ELSE finished_at END
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, done, failed, Date.now()],
    )
    return row ? toJob(row) : null
  }

  /** Marks the whole job failed (its upload could not be read); null when there is no such job. */
  async fail(id: string, error: string): Promise<Job | null> {
    const row = await this.db.one<Row>(
      `UPDATE jobs SET status = 'failed', error = $2, finished_at = COALESCE(finished_at, $3) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, error.slice(0, 2000), Date.now()],
    )
    return row ? toJob(row) : null
  }

  async get(id: string): Promise<Job | null> {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id])
    return row ? toJob(row) : null
  }

  /** Newest first. */
  async list(q: JobQuery = {}): Promise<{ items: Job[]; nextCursor?: string }> {
    const limit = pageSize(q.limit, 50, 500)
    const w = Where.forLines(q, 'line')
    if (!w) return { items: [] }
    if (q.status !== undefined) {
      if (!STATUSES.includes(q.status)) throw invalid(`status must be one of ${STATUSES.join(', ')}`)
      w.clauses.push(`status = ${w.p(q.status)}`)
    }
    if (q.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(q.cursor, ['number', 'string'] as const)
      w.clauses.push(`(created_at, id) < (${w.p(createdAt)}, ${w.p(id)})`)
    }
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM jobs ${w.sql} ORDER BY created_at DESC, id DESC LIMIT ${w.p(limit + 1)}`, w.params)
    return keysetPage(rows, limit, toJob, (job) => [job.createdAt, job.id])
  }
}
