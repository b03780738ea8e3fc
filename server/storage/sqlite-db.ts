/**
 * better-sqlite3 behind the async `Db` surface. One connection per process, in WAL mode so
 * readers in other processes never block on the writer.
 *
 * better-sqlite3 is synchronous, but a transaction's callback awaits between statements, so two
 * callers could interleave statements on the one connection (a second BEGIN inside the first
 * transaction). A promise mutex gives each transaction the connection alone; statements issued
 * outside a transaction wait for it as well, or they would silently join it.
 *
 * Waiting for another connection's write lock is done here, asynchronously, not by SQLite's
 * busy handler: that one sleeps inside the call and so blocks the event loop, stalling every
 * socket of the process, and deadlocks outright when the lock holder is another connection on
 * the same thread (it cannot finish while the thread sleeps).
 */
import Database from 'better-sqlite3'
import { StorageError, type Logger } from './errors.ts'
import { runAfterCommit, type Db, type Param, type Row, type Tx } from './sql.ts'

const STATEMENT_CACHE = 256

export interface SqliteDbOptions {
  /** Path of the database file (':memory:' for a private in-memory database). */
  file: string
  /** Milliseconds a writer waits for another connection's write lock before failing. @default 5000 */
  busyTimeoutMs?: number
  log: Logger
}

/** `$2 ... $1` -> `? ... ?` and the order the values must be bound in. */
function translate(text: string): { sql: string; order: number[] } {
  const order: number[] = []
  const sql = text.replace(/\$(\d+)/g, (_, n: string) => {
    order.push(Number(n) - 1)
    return '?'
  })
  return { sql, order }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

function bindable(p: Param): unknown {
  // SQLite has no boolean type; the schema stores flags as 0/1 in both engines
  return typeof p === 'boolean' ? (p ? 1 : 0) : p
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const
  readonly #db: Database.Database
  readonly #log: Logger
  readonly #busyTimeoutMs: number
  readonly #statements = new Map<string, { stmt: Database.Statement; order: number[] }>()
  #mutex: Promise<void> = Promise.resolve()
  #closed = false

  constructor(opts: SqliteDbOptions) {
    this.#log = opts.log
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 5000
    // at startup a blocking wait is harmless: processes creating the file together race for WAL
    this.#db = new Database(opts.file, { timeout: this.#busyTimeoutMs })
    this.#db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode can lose the last commits on power loss but never corrupts the file;
    // a lost inspection record costs less than an fsync per frame on a plant PC's disk
    this.#db.pragma('synchronous = NORMAL')
    this.#db.pragma('foreign_keys = ON')
    // from here on SQLITE_BUSY comes back at once and #whenFree waits without blocking
    this.#db.pragma('busy_timeout = 0')
  }

  #prepare(text: string) {
    let entry = this.#statements.get(text)
    if (!entry) {
      const { sql, order } = translate(text)
      entry = { stmt: this.#db.prepare(sql), order }
      if (this.#statements.size >= STATEMENT_CACHE) {
        const oldest = this.#statements.keys().next().value
        if (oldest !== undefined) this.#statements.delete(oldest)
      }
      this.#statements.set(text, entry)
    }
    return entry
  }

  #bind(order: number[], params: readonly Param[]): unknown[] {
    return order.map((i) => {
      if (i < 0 || i >= params.length) throw new RangeError(`parameter $${i + 1} was not given`)
      return bindable(params[i]!)
    })
  }

  // The statement runners used directly by a transaction that holds the mutex.
  #all<T>(text: string, params: readonly Param[]): T[] {
    const { stmt, order } = this.#prepare(text)
    const values = this.#bind(order, params)
    if (stmt.reader) return stmt.all(...values) as T[]
    stmt.run(...values)
    return []
  }

  #run(text: string, params: readonly Param[]): number {
    const { stmt, order } = this.#prepare(text)
    const values = this.#bind(order, params)
    if (stmt.reader) return stmt.all(...values).length
    return stmt.run(...values).changes
  }

  /** Runs `fn`, retrying with backoff while another connection holds the write lock. */
  async #whenFree<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs
    let delayMs = 1
    for (;;) {
      try {
        return fn()
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err
      }
      await new Promise((r) => setTimeout(r, delayMs))
      delayMs = Math.min(delayMs * 2, 50)
    }
  }

  async #exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.#closed) throw new StorageError('closed', 'the SQLite store is closed')
    const previous = this.#mutex
    let release!: () => void
    this.#mutex = new Promise<void>((r) => (release = r))
    await previous
    try {
      if (this.#closed) throw new StorageError('closed', 'the SQLite store is closed')
      return await fn()
    } finally {
      release()
    }
  }

  all<T = Row>(text: string, params: readonly Param[] = []): Promise<T[]> {
    return this.#exclusive(() => this.#whenFree(() => this.#all<T>(text, params)))
  }

  async one<T = Row>(text: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0]
  }

  run(text: string, params: readonly Param[] = []): Promise<number> {
    return this.#exclusive(() => this.#whenFree(() => this.#run(text, params)))
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const after: (() => void)[] = []
      let open = true
      const guard = () => {
        if (!open) throw new StorageError('closed', 'this transaction already ended')
      }
      const tx: Tx = {
        dialect: 'sqlite',
        all: async <R = Row>(text: string, params: readonly Param[] = []) => (guard(), this.#all<R>(text, params)),
        one: async <R = Row>(text: string, params: readonly Param[] = []) => (guard(), this.#all<R>(text, params)[0] as R | undefined),
        run: async (text: string, params: readonly Param[] = []) => (guard(), this.#run(text, params)),
        lock: async () => guard(),
        afterCommit: (cb) => void after.push(cb),
      }
      // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
      // writes can fail with SQLITE_BUSY when another process wrote in between
      await this.#whenFree(() => this.#db.exec('BEGIN IMMEDIATE'))
      let result: T
      try {
        result = await fn(tx)
        this.#db.exec('COMMIT')
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK')
        throw err
      } finally {
        open = false
      }
      runAfterCommit(after, (err) => this.#log.error({ err }, 'storage: an after-commit callback failed'))
      return result
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    // wait for the transaction in progress, then refuse new work
    await this.#exclusive(() => {
      this.#closed = true
    })
    this.#statements.clear()
    // refreshes the planner's statistics where they went stale; without them SQLite can pick
    // an index that turns a page of results into a scan per row
    try {
      this.#db.pragma('optimize')
    } catch (err) {
      this.#log.warn({ err }, 'storage: PRAGMA optimize failed on close')
    }
    this.#db.close()
  }
}
