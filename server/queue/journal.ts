/**
 * The embedded queue's journal: every frame it accepts is written to a SQLite file in the data
 * folder before `publish` resolves (so before the station is told `accepted`; not a frame published
 * with `durable: false`, whose sender keeps it: types.ts), and removed once
 * its delivery is acknowledged (after the result was recorded) or, dead-lettered, its error record
 * was written (embedded.ts). On start
 * the queue replays what is left: a process killed mid-stream (SIGKILL, OOM) loses no accepted
 * frame; a frame recorded just before the kill, whose row was not yet removed, is inferred again
 * and the store's idempotency by frame id keeps its one record.
 *
 * Durability: against the process dying (a kill, a crash, OOM), not against the machine losing
 * power. WAL with `synchronous = OFF`: a commit is in the operating system's page cache when
 * `add` returns, which survives the process; nothing is fsynced, because a flush on the ingest
 * path (per frame, or at each WAL checkpoint with `NORMAL`) cost the gateway 2.4 times its
 * main-thread time per frame (docs/soak.md). After a power cut the file may be lost or corrupt:
 * one that does not open is moved aside and the process starts without it (server/wiring/queue.ts).
 *
 * What it costs the main thread, per frame: one INSERT, and its share of a DELETE. Removals wait up
 * to JOURNAL_FLUSH_MS and go in one transaction: a removal lost to a kill only costs a second
 * inference, never a second record. 16 KiB pages: a model-size frame (15 KB) is one page plus a
 * little, a camera frame a short chain. Measured with a throwaway script (3,000 frames, 4 in flight,
 * bench/FINDINGS.md, "The queue journal's pages and removals"): 64 KiB pages with a removal
 * transaction per frame (the earlier layout) cost 175 to 180 CPU us per 14 KB frame and 300 to
 * 330 per 60 KB one; 16 KiB pages with removals in batches of 16, 60 to 80 and 90 to 115.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Waiting } from './embedded-lane.ts'
import type { HeaderValue, Priority } from './types.ts'

/** Bumped when the table changes; a file of another version is refused rather than misread. */
const VERSION = 1

const PAGE_SIZE = 16384

/** How long an acknowledged frame's row may stay before its removal is written, ms. */
export const JOURNAL_FLUSH_MS = 50
/** Removals written at once, without waiting for JOURNAL_FLUSH_MS, when this many are pending. */
const FLUSH_AT = 256

export class QueueJournal {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #delete: Database.Statement
  readonly #removeMany: (ids: Iterable<string>) => void
  readonly #pendingRemovals = new Set<string>()
  #flushTimer: NodeJS.Timeout | undefined
  #seq = 0
  #closed = false

  /** @param onError where a failed batch of removals is reported (they are retried with the next) */
  constructor(
    readonly file: string,
    private readonly onError: (err: unknown, context: string) => void = () => undefined,
  ) {
    mkdirSync(dirname(file), { recursive: true })
    this.#db = new Database(file)
    // before the first table is made (it fixes the file's page size)
    this.#db.pragma(`page_size = ${PAGE_SIZE}`)
    this.#db.pragma('journal_mode = WAL')
    this.#repage()
    this.#db.pragma('synchronous = OFF')
    // SQLite's default checkpoints the WAL every 1000 pages (16 MiB here) and never shrinks it: on
    // a small data disk that alone filled it. Every 1 MiB, truncated back to 1 MiB.
    this.#db.pragma(`wal_autocheckpoint = ${1048576 / PAGE_SIZE}`)
    this.#db.pragma('journal_size_limit = 1048576')
    const version = this.#db.pragma('user_version', { simple: true }) as number
    if (version === 0) {
      this.#db.exec(`CREATE TABLE IF NOT EXISTS frames (
        seq INTEGER NOT NULL,
        id TEXT PRIMARY KEY,
        priority TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        expires_at REAL,
        attempts INTEGER NOT NULL
      )`)
      this.#db.pragma(`user_version = ${VERSION}`)
    } else if (version !== VERSION) {
      throw new Error(`${file} is a queue journal of version ${version}; this linesight reads version ${VERSION}. Move it away to start without its frames.`)
    }
    this.#insert = this.#db.prepare('INSERT OR REPLACE INTO frames (seq, id, priority, headers, body, expires_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#delete = this.#db.prepare('DELETE FROM frames WHERE id = ?')
    this.#removeMany = this.#db.transaction((ids: Iterable<string>) => {
      for (const id of ids) this.#delete.run(id)
    })
    this.#seq = (this.#db.prepare('SELECT coalesce(max(seq), 0) AS s FROM frames').get() as { s: number }).s
  }

  /**
   * A journal written by an earlier release with 64 KiB pages takes this one's page size when it
   * holds no frame (the size of a WAL-mode file changes only by a VACUUM outside WAL mode); one
   * that still holds frames keeps its pages until a later start finds it empty.
   */
  #repage(): void {
    if (this.#db.pragma('page_size', { simple: true }) === PAGE_SIZE) return
    const hasTable = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'frames'").get() !== undefined
    if (hasTable && this.#db.prepare('SELECT 1 FROM frames LIMIT 1').get() !== undefined) return
    try {
      this.#db.pragma('journal_mode = DELETE')
      this.#db.pragma(`page_size = ${PAGE_SIZE}`)
      this.#db.exec('VACUUM')
    } catch (err) {
      // another connection holds the file (a process still running on it): kept as it is
      this.onError(err, `changing the queue journal's page size to ${PAGE_SIZE}`)
    } finally {
      this.#db.pragma('journal_mode = WAL')
    }
  }

  /**
   * The frames left by the previous process, in the order they were accepted. Each counts the
   * interrupted run as one delivery attempt (it may have been the frame that brought the process
   * down), so a frame that kills the process every time is dead-lettered after the delivery limit
   * instead of crash-looping.
   */
  replay(): Waiting[] {
    this.#db.exec('UPDATE frames SET attempts = attempts + 1')
    const rows = this.#db.prepare('SELECT id, priority, headers, body, expires_at, attempts FROM frames ORDER BY seq').all() as {
      id: string
      priority: Priority
      headers: string
      body: Buffer
      expires_at: number | null
      attempts: number
    }[]
    return rows.map((r) => ({
      message: { id: r.id, headers: JSON.parse(r.headers) as Record<string, HeaderValue>, body: new Uint8Array(r.body) },
      priority: r.priority,
      attempts: r.attempts,
      expiresAt: r.expires_at ?? Infinity,
      journaled: true,
    }))
  }

  /** Written (not fsynced, see above) when this returns; throws when it cannot be (disk full). */
  add(w: Waiting): void {
    this.#pendingRemovals.delete(w.message.id)
    const body = w.message.body
    this.#insert.run(++this.#seq, w.message.id, w.priority, JSON.stringify(w.message.headers), Buffer.from(body.buffer, body.byteOffset, body.byteLength), Number.isFinite(w.expiresAt) ? w.expiresAt : null, w.attempts)
  }

  /** Removed within JOURNAL_FLUSH_MS, with the other frames acknowledged meanwhile. */
  remove(id: string): void {
    if (this.#closed) return
    this.#pendingRemovals.add(id)
    if (this.#pendingRemovals.size >= FLUSH_AT) return this.#flushReporting()
    this.#flushTimer ??= setTimeout(() => this.#flushReporting(), JOURNAL_FLUSH_MS).unref()
  }

  #flushReporting(): void {
    try {
      this.flush()
    } catch (err) {
      this.onError(err, 'removing acknowledged frames from the queue journal')
    }
  }

  /** Writes the pending removals now; a failure leaves them to be retried (a replay is harmless). */
  flush(): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#closed || this.#pendingRemovals.size === 0) return
    const ids = [...this.#pendingRemovals]
    this.#removeMany(ids)
    for (const id of ids) this.#pendingRemovals.delete(id)
  }

  close(): void {
    if (this.#closed) return
    try {
      this.flush()
    } finally {
      this.#closed = true
      this.#db.close()
    }
  }
}
