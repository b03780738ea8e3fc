/**
 * The audit log: who changed what, with the value before and after. Append-only; entries are
 * written in the same transaction as the change they describe (settings, tokens), so the log
 * never claims a change that rolled back nor misses one that committed.
 */
import { decodeCursor, pageSize } from './cursor.ts'
import { invalid } from './errors.ts'
import type { Db, Sql } from './sql.ts'
import { keysetPage, Where } from './where.ts'

export interface AuditInput {
  /** Who: a token id, `system`, or an operator's name. */
  actor: string
  /** What, dotted: `settings.put`, `token.create`, `inference.pause`. */
  action: string
  /** On what: a settings key, a token id, a line. */
  target: string
  before?: unknown
  after?: unknown
}

export interface AuditEntry extends AuditInput {
  id: number
  /** ms since the epoch. */
  at: number
}

export interface AuditQuery {
  /** Inclusive, ms. */
  from?: number
  /** Exclusive, ms. */
  to?: number
  /** @default 100, at most 1000 */
  limit?: number
  cursor?: string
}

interface AuditRow {
  id: number
  at: number
  actor: string
  action: string
  target: string
  before_doc: string | null
  after_doc: string | null
}

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw invalid(`audit ${name} must be a string of 1-256 characters`)
  return value
}

function toEntry(r: AuditRow): AuditEntry {
  const e: AuditEntry = { id: Number(r.id), at: Number(r.at), actor: r.actor, action: r.action, target: r.target }
  if (r.before_doc !== null) e.before = JSON.parse(r.before_doc)
  if (r.after_doc !== null) e.after = JSON.parse(r.after_doc)
  return e
}

/** undefined stays absent (NULL); null is stored as the JSON `null`. */
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v))

export class AuditLog {
  constructor(readonly db: Db) {}

  append(entry: AuditInput): Promise<AuditEntry> {
    return this.appendIn(this.db, entry)
  }

  /** Appends inside the caller's transaction. */
  async appendIn(sql: Sql, entry: AuditInput): Promise<AuditEntry> {
    const row = await sql.one<AuditRow>(
      `INSERT INTO audit_log (at, actor, action, target, before_doc, after_doc) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, at, actor, action, target, before_doc, after_doc`,
      [Date.now(), text('actor', entry.actor), text('action', entry.action), text('target', entry.target), json(entry.before), json(entry.after)],
    )
    if (!row) throw new Error('INSERT ... RETURNING returned no row')
    return toEntry(row)
  }

  /** Newest first. */
  async list(q: AuditQuery = {}): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
    const limit = pageSize(q.limit, 100, 1000)
    const w = new Where().timeRange('at', q)
    if (q.cursor !== undefined) w.clauses.push(`id < ${w.p(decodeCursor(q.cursor, ['number'] as const)[0])}`)
    const rows = await this.db.all<AuditRow>(`SELECT id, at, actor, action, target, before_doc, after_doc FROM audit_log ${w.sql} ORDER BY id DESC LIMIT ${w.p(limit + 1)}`, w.params)
    return keysetPage(rows, limit, toEntry, (entry) => [entry.id])
  }
}
