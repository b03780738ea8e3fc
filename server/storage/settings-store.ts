/**
 * Settings as JSON documents by key (`global`, `scaling`, `line:<id>`). The store does not know
 * their shapes; callers validate with the schemas in shared/domain. Every `put` appends to the
 * audit log in the same transaction, and the audit entry's id becomes the document's revision.
 *
 * Change listeners in this process hear of a `put` as soon as it commits; changes made by other
 * processes arrive through the change feed (PostgreSQL: LISTEN/NOTIFY, pushed; SQLite: polled
 * every second). A listener sees each revision of a key at most once, newest wins.
 */
import type { AuditLog } from './audit.ts'
import type { ChangeFeed } from './change-feed.ts'
import { invalid, type Logger } from './errors.ts'
import type { Db } from './sql.ts'

export interface SettingsDoc {
  key: string
  value: unknown
  revision: number
  updatedAt: number
  updatedBy: string
}

export type SettingsListener = (doc: SettingsDoc) => void

export const SETTINGS_KEY = /^[a-z][a-z0-9_-]{0,31}(:[A-Za-z0-9][A-Za-z0-9._:-]{0,63})?$/
const MAX_DOC_BYTES = 1024 * 1024

interface Row {
  key: string
  value: string
  revision: number
  updated_at: number
  updated_by: string
}

const COLUMNS = 'key, value, revision, updated_at, updated_by'
const toDoc = (r: Row): SettingsDoc => ({ key: r.key, value: JSON.parse(r.value), revision: Number(r.revision), updatedAt: Number(r.updated_at), updatedBy: r.updated_by })

function checkKey(key: string): void {
  if (typeof key !== 'string' || !SETTINGS_KEY.test(key)) throw invalid(`settings key "${String(key)}" must look like global, scaling or line:<id>`)
}

export class SettingsStore {
  readonly #db: Db
  readonly #audit: AuditLog
  readonly #feed: ChangeFeed
  readonly #log: Logger
  readonly #listeners = new Set<SettingsListener>()
  /** The newest revision of each key that listeners were told about (or that existed at start). */
  readonly #seen = new Map<string, number>()
  #watching: Promise<void> | undefined

  constructor(db: Db, audit: AuditLog, feed: ChangeFeed, log: Logger) {
    this.#db = db
    this.#audit = audit
    this.#feed = feed
    this.#log = log
  }

  async get(key: string): Promise<SettingsDoc | null> {
    checkKey(key)
    const row = await this.#db.one<Row>(`SELECT ${COLUMNS} FROM settings WHERE key = $1`, [key])
    return row ? toDoc(row) : null
  }

  /** Documents whose key starts with `prefix` (`line:` for every line), by key. */
  async list(prefix = ''): Promise<SettingsDoc[]> {
    // substr, not LIKE: LIKE would need its wildcards escaped and is case-blind in SQLite
    const rows = await this.#db.all<Row>(`SELECT ${COLUMNS} FROM settings WHERE substr(key, 1, $1) = $2 ORDER BY key`, [prefix.length, prefix])
    return rows.map(toDoc)
  }

  async put(key: string, value: unknown, actor: string): Promise<SettingsDoc> {
    checkKey(key)
    const text = value === undefined ? undefined : JSON.stringify(value)
    if (text === undefined) throw invalid('a settings document must be a JSON value')
    if (Buffer.byteLength(text) > MAX_DOC_BYTES) throw invalid('a settings document may be at most 1 MiB')
    const after = JSON.parse(text) as unknown
    return this.#db.transaction(async (tx) => {
      // two puts of one key must not interleave: the audit's `before` and the revision order
      // would no longer match what was stored
      await tx.lock(`settings:${key}`)
      const previous = await tx.one<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key])
      const before = previous ? (JSON.parse(previous.value) as unknown) : undefined
      const entry = await this.#audit.appendIn(tx, { actor, action: 'settings.put', target: key, before, after })
      const row = await tx.one<Row>(
        `INSERT INTO settings (key, value, revision, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, revision = excluded.revision, updated_at = excluded.updated_at, updated_by = excluded.updated_by
         RETURNING ${COLUMNS}`,
        [key, text, entry.id, entry.at, actor],
      )
      if (!row) throw new Error('INSERT ... RETURNING returned no row')
      await this.#feed.announce(tx, key)
      const doc = toDoc(row)
      tx.afterCommit(() => this.#emit(doc))
      return doc
    })
  }

  /**
   * Calls `listener` with every later change of any document, from this process or another.
   * Resolves once watching; the returned function stops this listener.
   */
  async onChange(listener: SettingsListener): Promise<() => void> {
    this.#listeners.add(listener)
    try {
      await (this.#watching ??= this.#startWatching())
    } catch (err) {
      this.#listeners.delete(listener)
      this.#watching = undefined
      throw err
    }
    return () => void this.#listeners.delete(listener)
  }

  async #startWatching(): Promise<void> {
    for (const doc of await this.list()) this.#remember(doc.key, doc.revision)
    await this.#feed.start((key) => {
      this.#refresh(key).catch((err: unknown) => this.#log.warn({ err, key }, 'storage: could not read a changed settings document'))
    })
  }

  async #refresh(key?: string): Promise<void> {
    const docs = key === undefined ? await this.list() : [await this.get(key)].filter((d) => d !== null)
    for (const doc of docs) this.#emit(doc)
  }

  /** True when `revision` is newer than what was seen for `key`. */
  #remember(key: string, revision: number): boolean {
    if ((this.#seen.get(key) ?? 0) >= revision) return false
    this.#seen.set(key, revision)
    return true
  }

  #emit(doc: SettingsDoc): void {
    if (!this.#remember(doc.key, doc.revision)) return
    for (const l of this.#listeners) {
      try {
        l(doc)
      } catch (err) {
        this.#log.error({ err, key: doc.key }, 'storage: a settings listener threw')
      }
    }
  }

  async close(): Promise<void> {
    this.#listeners.clear()
    if (this.#watching) await this.#watching.catch(() => undefined) // its failure was reported to onChange's caller
    this.#watching = undefined
    await this.#feed.stop()
  }
}
