/**
 * Part records (shared/domain/part.ts): one row per (line, part id), rewritten whole as the part
 * gathers frames and when it closes. The tracker (server/parts/) is the only writer; readers
 * page newest first by when the part opened.
 */
import { isId } from '../../shared/domain/ids.ts'
import { isPartId } from '../../shared/domain/part-id.ts'
import { PartRecordSchema, type PartRecord } from '../../shared/domain/part.ts'
import { decodeCursor, pageSize } from './cursor.ts'
import { invalid } from './errors.ts'
import type { Db } from './sql.ts'
import { keysetPage, Where } from './where.ts'

export interface PartQuery {
  line?: string
  /** A token's scope, intersected with `line`. */
  lines?: readonly string[]
  station?: string
  /** Inclusive, ms since the epoch (openedAt). */
  from?: number
  /** Exclusive. */
  to?: number
  verdict?: 'pass' | 'fail'
  /** Only parts that are closed (true) or still open (false). */
  closed?: boolean
  cursor?: string
  /** @default 100, at most 1000 */
  limit?: number
}

export interface PartPage {
  items: PartRecord[]
  nextCursor?: string
}

export interface PartHourCount {
  /** Start of the hour the part opened in, ms since the epoch. */
  hour: number
  line: string
  station: string
  pass: number
  fail: number
}

const HOUR_MS = 3_600_000

export class PartStore {
  constructor(private readonly db: Db) {}

  /** Writes the part as it is now (insert or replace). */
  async put(part: PartRecord): Promise<void> {
    const p = PartRecordSchema.safeParse(part)
    if (!p.success) throw invalid(`not a part record: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    const r = p.data
    const openedAt = Math.round(r.openedAt)
    await this.db.run(
      `INSERT INTO parts (line, part_id, station, verdict, opened_at, opened_hour, closed_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (line, part_id) DO UPDATE SET station = EXCLUDED.station, verdict = EXCLUDED.verdict, opened_at = EXCLUDED.opened_at,
         opened_hour = EXCLUDED.opened_hour, closed_at = EXCLUDED.closed_at, doc = EXCLUDED.doc`,
      [r.line, r.partId, r.station, r.verdict, openedAt, openedAt - (openedAt % HOUR_MS), r.closedAt === null ? null : Math.round(r.closedAt), JSON.stringify(r)],
    )
  }

  async get(line: string, partId: string): Promise<PartRecord | null> {
    if (!isId(line) || !isPartId(partId)) return null
    const row = await this.db.one<{ doc: string }>('SELECT doc FROM parts WHERE line = $1 AND part_id = $2', [line, partId])
    return row ? (JSON.parse(row.doc) as PartRecord) : null
  }

  /** Newest first (by openedAt, then part id). */
  async query(q: PartQuery): Promise<PartPage> {
    const limit = pageSize(q.limit, 100, 1000)
    const w = scope(q)
    if (!w) return { items: [] }
    if (q.verdict !== undefined) {
      if (q.verdict !== 'pass' && q.verdict !== 'fail') throw invalid('verdict must be pass or fail')
      w.clauses.push(`verdict = ${w.p(q.verdict)}`)
    }
    if (q.closed !== undefined) w.clauses.push(q.closed ? 'closed_at IS NOT NULL' : 'closed_at IS NULL')
    if (q.cursor !== undefined) {
      const [openedAt, partId] = decodeCursor(q.cursor, ['number', 'string'] as const)
      w.clauses.push(`(opened_at < ${w.p(openedAt)} OR (opened_at = ${w.p(openedAt)} AND part_id < ${w.p(partId)}))`)
    }
    const rows = await this.db.all<{ doc: string }>(`SELECT doc FROM parts ${w.sql} ORDER BY opened_at DESC, part_id DESC LIMIT ${w.p(limit + 1)}`, w.params)
    return keysetPage(
      rows,
      limit,
      (r) => JSON.parse(r.doc) as PartRecord,
      (part) => [Math.round(part.openedAt), part.partId],
    )
  }

  /** Closed parts per hour they opened in, line and station, by verdict. */
  async countsByHour(q: Pick<PartQuery, 'line' | 'lines' | 'from' | 'to'>): Promise<PartHourCount[]> {
    const w = scope(q)
    if (!w) return []
    w.clauses.push('closed_at IS NOT NULL', 'verdict IS NOT NULL')
    const rows = await this.db.all<{ hour: number; line: string; station: string; pass: number; fail: number }>(
      `SELECT opened_hour AS hour, line, station,
         SUM(CASE WHEN verdict = 'pass' THEN 1 ELSE 0 END) AS pass, SUM(CASE WHEN verdict = 'fail' THEN 1 ELSE 0 END) AS fail
       FROM parts ${w.sql} GROUP BY opened_hour, line, station ORDER BY opened_hour, line, station`,
      w.params,
    )
    return rows.map((r) => ({ hour: Number(r.hour), line: r.line, station: r.station, pass: Number(r.pass), fail: Number(r.fail) }))
  }

  /** Deletes parts opened before `before`; returns how many went. */
  deleteBefore(before: number): Promise<number> {
    return this.db.run('DELETE FROM parts WHERE opened_at < $1', [Math.round(before)])
  }
}

function scope(q: Pick<PartQuery, 'line' | 'lines' | 'station' | 'from' | 'to'>): Where | null {
  const w = Where.forLines(q, 'line')
  if (!w) return null
  if (q.station !== undefined) w.clauses.push(`station = ${w.p(q.station)}`)
  return w.timeRange('opened_at', q, true)
}
