/**
 * The WHERE clause of the listings (results, detections, parts, jobs, review queue) and the keyset
 * page they return. Every value is a parameter; the only text spliced into SQL is placeholders and
 * the fixed column names the stores pass in.
 */
import { encodeCursor, type CursorKey } from './cursor.ts'
import { invalid } from './errors.ts'
import type { Param } from './sql.ts'

/** What a listing may be narrowed to: one `line` asked for, within the `lines` a token may see. */
export interface LineScope {
  line?: string
  lines?: readonly string[]
}

/**
 * The lines a query may see: `line` intersected with `lines` (a token's scope); undefined for
 * every line, null when the intersection is empty (nothing can match, no query needs to run).
 */
export function visibleLines(q: LineScope): readonly string[] | undefined | null {
  if (q.lines === undefined) return q.line === undefined ? undefined : [q.line]
  const scoped = q.line === undefined ? q.lines : q.lines.filter((l) => l === q.line)
  return scoped.length ? scoped : null
}

export class Where {
  readonly clauses: string[] = []
  readonly params: Param[] = []

  /**
   * A clause for the lines `q` may see, or null when it may see none. Starting every listing here
   * keeps a token's line scope in one place.
   */
  static forLines(q: LineScope, column: string): Where | null {
    const lines = visibleLines(q)
    if (lines === null) return null
    const w = new Where()
    if (lines) w.clauses.push(lines.length === 1 ? `${column} = ${w.p(lines[0]!)}` : `${column} IN (${lines.map((l) => w.p(l)).join(', ')})`)
    return w
  }

  /** Adds a value and returns its placeholder. */
  p(value: Param): string {
    this.params.push(value)
    return `$${this.params.length}`
  }

  /** `from <= column < to` for the bounds given, each checked to be a time in ms. */
  timeRange(column: string, q: { from?: number; to?: number }, round = false): this {
    const at = (v: number) => (round ? Math.round(v) : v)
    if (q.from !== undefined) {
      if (!Number.isFinite(q.from)) throw invalid('from must be a time in ms')
      this.clauses.push(`${column} >= ${this.p(at(q.from))}`)
    }
    if (q.to !== undefined) {
      if (!Number.isFinite(q.to)) throw invalid('to must be a time in ms')
      this.clauses.push(`${column} < ${this.p(at(q.to))}`)
    }
    return this
  }

  get sql(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : ''
  }
}

/**
 * A keyset page from `limit + 1` rows (the extra row only says another page exists): the items,
 * and the cursor of the last one when there is more.
 */
export function keysetPage<R, T>(
  rows: readonly R[],
  limit: number,
  toItem: (row: R) => T,
  keyOf: (item: T, row: R) => CursorKey,
): { items: T[]; nextCursor?: string } {
  const kept = rows.slice(0, limit)
  const items = kept.map(toItem)
  const last = kept.length - 1
  return rows.length > limit && last >= 0 ? { items, nextCursor: encodeCursor(keyOf(items[last]!, kept[last]!)) } : { items }
}
