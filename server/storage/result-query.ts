/**
 * Reading results: filters, keyset pages (newest first) and the two aggregates. Every value is a
 * parameter; the only text spliced into SQL is placeholders and fixed column names.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import { decodeCursor, pageSize } from './cursor.ts'
import { invalid } from './errors.ts'
import type { Sql } from './sql.ts'
import type { ClassCount, HourCount, ResultPage, ResultQuery } from './types.ts'
import { keysetPage, Where } from './where.ts'

export const DEFAULT_PAGE = 100
export const MAX_PAGE = 1000

type Scope = Pick<ResultQuery, 'line' | 'lines' | 'from' | 'to'>

/** Filters on line and capture time, for `results` and `detections` alike (same column names). */
function scopeWhere(q: Scope, alias: string): Where | null {
  return Where.forLines(q, `${alias}.line`)?.timeRange(`${alias}.captured_at`, q) ?? null
}

export async function queryResults(sql: Sql, q: ResultQuery): Promise<ResultPage> {
  const limit = pageSize(q.limit, DEFAULT_PAGE, MAX_PAGE)
  const w = scopeWhere(q, 'r')
  if (!w) return { items: [] }
  if (q.station !== undefined) w.clauses.push(`r.station = ${w.p(q.station)}`)
  if (q.verdict !== undefined) {
    if (q.verdict !== 'pass' && q.verdict !== 'fail') throw invalid(`verdict must be pass or fail, got ${String(q.verdict)}`)
    w.clauses.push(`r.verdict = ${w.p(q.verdict)}`)
  }
  if (q.jobId !== undefined) w.clauses.push(`r.job_id = ${w.p(q.jobId)}`)
  if (q.class !== undefined) w.clauses.push(`EXISTS (SELECT 1 FROM detections d WHERE d.frame_id = r.frame_id AND d.class = ${w.p(q.class)})`)
  if (q.cursor !== undefined) {
    const [capturedAt, frameId] = decodeCursor(q.cursor, ['number', 'string'] as const)
    w.clauses.push(`(r.captured_at, r.frame_id) < (${w.p(capturedAt)}, ${w.p(frameId)})`)
  }
  // one row more than asked tells whether another page exists
  const rows = await sql.all<{ doc: string; captured_at: number; frame_id: string }>(
    `SELECT r.doc, r.captured_at, r.frame_id FROM results r ${w.sql} ORDER BY r.captured_at DESC, r.frame_id DESC LIMIT ${w.p(limit + 1)}`,
    w.params,
  )
  return keysetPage(
    rows,
    limit,
    (r) => JSON.parse(r.doc) as InspectionResult,
    (_, r) => [Number(r.captured_at), r.frame_id],
  )
}

export async function countResultsByHour(sql: Sql, q: Scope): Promise<HourCount[]> {
  const w = scopeWhere(q, 'r')
  if (!w) return []
  const rows = await sql.all<{ hour: number; line: string; pass: number; fail: number }>(
    `SELECT r.captured_hour AS hour, r.line AS line,
       SUM(CASE WHEN r.verdict = 'pass' THEN 1 ELSE 0 END) AS pass,
       SUM(CASE WHEN r.verdict = 'fail' THEN 1 ELSE 0 END) AS fail
     FROM results r ${w.sql}
     GROUP BY r.captured_hour, r.line
     ORDER BY hour, line`,
    w.params,
  )
  return rows.map((r) => ({ hour: Number(r.hour), line: r.line, pass: Number(r.pass), fail: Number(r.fail) }))
}

export async function countDetectionsByClass(sql: Sql, q: Scope): Promise<ClassCount[]> {
  const w = scopeWhere(q, 'd')
  if (!w) return []
  const rows = await sql.all<{ line: string; class: string; count: number }>(
    `SELECT d.line AS line, d.class AS class, COUNT(*) AS count
     FROM detections d ${w.sql}
     GROUP BY d.line, d.class
     ORDER BY line, count DESC, class`,
    w.params,
  )
  return rows.map((r) => ({ line: r.line, class: r.class, count: Number(r.count) }))
}
