/**
 * The lines that exist. A line is made by an administrator (or by pairing a device to it); frames
 * for any other line are refused, so the `line` label of every metric stays as small as what the
 * administrators made. Lines are never removed: results keep pointing at them.
 *
 * Known lines are cached for the life of the process (they never disappear); a line unknown here
 * is looked up again, so a line made by another process is found at its first frame.
 */
import { isId } from '../../shared/domain/ids.ts'
import type { AuditLog } from './audit.ts'
import { invalid } from './errors.ts'
import type { Db, Sql } from './sql.ts'

export interface LineInfo {
  line: string
  createdAt: number
  createdBy: string
}

export class LineStore {
  readonly #db: Db
  readonly #audit: AuditLog
  readonly #known = new Set<string>()

  constructor(db: Db, audit: AuditLog) {
    this.#db = db
    this.#audit = audit
  }

  async exists(line: string): Promise<boolean> {
    if (this.#known.has(line)) return true
    const row = await this.#db.one<{ line: string }>('SELECT line FROM lines WHERE line = $1', [line])
    if (row) this.#known.add(line)
    return row !== undefined
  }

  /** Makes the line if it is new (audited); true when it was made now. */
  async create(line: string, actor: string): Promise<boolean> {
    if (this.#known.has(line)) return false
    const made = await this.#db.transaction((tx) => this.createIn(tx, line, actor))
    this.#known.add(line)
    return made
  }

  /** As `create`, inside the caller's transaction. */
  async createIn(sql: Sql, line: string, actor: string): Promise<boolean> {
    if (!isId(line)) throw invalid('a line must be an id')
    const n = await sql.run('INSERT INTO lines (line, created_at, created_by) VALUES ($1, $2, $3) ON CONFLICT (line) DO NOTHING', [line, Date.now(), actor])
    if (n) await this.#audit.appendIn(sql, { actor, action: 'line.create', target: line })
    return n > 0
  }

  async list(): Promise<LineInfo[]> {
    const rows = await this.#db.all<{ line: string; created_at: number; created_by: string }>('SELECT line, created_at, created_by FROM lines ORDER BY line')
    return rows.map((r) => ({ line: r.line, createdAt: Number(r.created_at), createdBy: r.created_by }))
  }
}
