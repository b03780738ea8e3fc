/**
 * Images in one SQLite file beside the store's (`<data dir>/images.db`), for the SQLite store.
 * The result database stays small (fast backups, a short WAL), and a failing frame's images cost
 * one row each instead of a file each: creating a file (ext4 allocating its inode, the tmp name
 * renamed over) cost 0.3 to 1.0 CPU ms per image here, an INSERT of the same bytes 0.14 to 0.34
 * (bench/FINDINGS.md, "Images in one SQLite file, not a file each").
 *
 * All of it runs on a thread of its own with its own connection: the main thread posts one message
 * per frame and gets one back; writes that arrive together go in one transaction. Images are
 * written after their record committed (`transactional` is false): a row of `results` may name an
 * image whose write failed or was cut off by a crash, and `load` then answers null.
 *
 * A thumbnail that is the original's own bytes (a station's model-size frame) is stored once: its
 * row holds NULL, read as "the original". Evidence that comes later writes both rows.
 *
 * Several processes on one host may share the file (WAL; writers take turns, waiting up to the
 * busy timeout). Images written as files by releases before this one (`images/<xx>/<sha256>`,
 * image-disk.ts) are still read and removed.
 *
 * The thread is plain CommonJS (server/eval-thread.ts); it loads better-sqlite3 from the path this
 * module resolves.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { EvalThread, type ThreadReply } from '../eval-thread.ts'
import { StorageError } from './errors.ts'
import { LegacyImageFiles } from './image-disk.ts'
import type { ImageStore, ImageVariant, PreparedImages } from './images.ts'

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.sqlite)
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs })
// page size and incremental vacuum only take on a new file, before its first table
db.pragma('page_size = 16384')
db.pragma('auto_vacuum = INCREMENTAL')
db.pragma('journal_mode = WAL')
// fsync at checkpoints only: a crash of the process loses nothing written, a power cut at most
// the last images, never the file
db.pragma('synchronous = NORMAL')
db.pragma('journal_size_limit = 16777216')
db.exec(\`CREATE TABLE IF NOT EXISTS images (
  frame_id TEXT NOT NULL,
  variant TEXT NOT NULL CHECK (variant IN ('original', 'thumbnail')),
  bytes BLOB,
  PRIMARY KEY (frame_id, variant)
)\`)
const put = db.prepare('INSERT OR REPLACE INTO images (frame_id, variant, bytes) VALUES (?, ?, ?)')
const get = db.prepare('SELECT bytes FROM images WHERE frame_id = ? AND variant = ?')
const del = db.prepare('DELETE FROM images WHERE frame_id = ?')
const putAll = db.transaction((puts) => {
  for (const p of puts) for (const r of p.rows) put.run(p.frameId, r.variant, r.bytes)
})
const delAll = db.transaction((frameIds) => {
  let n = 0
  for (const id of frameIds) n += del.run(id).changes
  return n
})

function fail(e) {
  return { message: String((e && e.message) || e), code: e && e.code }
}
function load(frameId, variant) {
  const row = get.get(frameId, variant)
  if (!row) return null
  if (row.bytes !== null) return row.bytes
  const original = get.get(frameId, 'original')
  return original ? original.bytes : null
}

// requests in arrival order; consecutive puts share one transaction
let queue = []
let scheduled = false
function drain() {
  scheduled = false
  const q = queue
  queue = []
  for (let i = 0; i < q.length; ) {
    if (q[i].op === 'put') {
      let j = i
      while (j < q.length && q[j].op === 'put') j++
      const puts = q.slice(i, j)
      try {
        putAll(puts)
        for (const p of puts) parentPort.postMessage({ id: p.id })
      } catch {
        // one at a time, so that one that cannot be written fails alone
        for (const p of puts) {
          try {
            putAll([p])
            parentPort.postMessage({ id: p.id })
          } catch (e) {
            parentPort.postMessage({ id: p.id, error: fail(e) })
          }
        }
      }
      i = j
      continue
    }
    const r = q[i++]
    try {
      if (r.op === 'get') parentPort.postMessage({ id: r.id, bytes: load(r.frameId, r.variant) })
      else if (r.op === 'delete') {
        const removed = delAll(r.frameIds)
        // hand the freed pages back to the file system: retention is what keeps the disk bounded
        if (removed) db.pragma('incremental_vacuum')
        parentPort.postMessage({ id: r.id })
      }
    } catch (e) {
      parentPort.postMessage({ id: r.id, error: fail(e) })
    }
  }
}
parentPort.on('message', (r) => {
  if (r.op === 'close') {
    drain()
    db.close()
    parentPort.postMessage({ id: r.id })
    return
  }
  queue.push(r)
  if (!scheduled) {
    scheduled = true
    setImmediate(drain)
  }
})
`

/** After the thread died (its file could not be opened), requests fail at once for this long before one starts it again. */
const RESTART_AFTER_MS = 1000

type Request =
  | { op: 'put'; frameId: string; rows: { variant: ImageVariant; bytes: Uint8Array | null }[] }
  | { op: 'get'; frameId: string; variant: ImageVariant }
  | { op: 'delete'; frameIds: readonly string[] }
  | { op: 'close' }

interface Reply extends ThreadReply {
  bytes?: Uint8Array | null
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b))
}

export class SqliteImageStore implements ImageStore {
  readonly transactional = false

  readonly #thread: EvalThread<Reply>
  /** The files of releases before this one, when the data folder has them. */
  readonly #legacy: LegacyImageFiles | undefined

  /**
   * @param file the images database (created when absent)
   * @param legacyDir where earlier releases wrote image files; read and removed when it exists
   */
  constructor(
    readonly file: string,
    legacyDir?: string,
    busyTimeoutMs = 5000,
  ) {
    this.#legacy = legacyDir !== undefined && existsSync(legacyDir) ? new LegacyImageFiles(legacyDir) : undefined
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
    this.#thread = new EvalThread(THREAD, { workerData: { file, sqlite, busyTimeoutMs }, restartAfterMs: RESTART_AFTER_MS, name: 'the images database thread' })
  }

  /** Threads this store started: one, unless its file could not be opened (then at most one per RESTART_AFTER_MS). */
  get threadsStarted(): number {
    return this.#thread.started
  }

  async save(_sql: unknown, frameId: string, images: PreparedImages): Promise<void> {
    const rows: { variant: ImageVariant; bytes: Uint8Array | null }[] = []
    if (images.original) rows.push({ variant: 'original', bytes: images.original.bytes })
    if (images.thumbnail) {
      const same = images.original !== undefined && sameBytes(images.original.bytes, images.thumbnail.bytes)
      rows.push({ variant: 'thumbnail', bytes: same ? null : images.thumbnail.bytes })
    }
    if (!rows.length) return
    try {
      await this.#request({ op: 'put', frameId, rows })
    } catch (err) {
      throw new StorageError('io', `could not write the images of frame ${frameId}`, { cause: err })
    }
  }

  /** Rows are replaced in one transaction: a reader sees the old image or the new one. */
  replace(sql: unknown, frameId: string, images: PreparedImages): Promise<void> {
    return this.save(sql, frameId, images)
  }

  async load(_sql: unknown, frameId: string, variant: ImageVariant): Promise<Uint8Array | null> {
    let bytes: Uint8Array | null | undefined
    try {
      bytes = (await this.#request({ op: 'get', frameId, variant })).bytes
    } catch (err) {
      throw new StorageError('io', `could not read the ${variant} image of frame ${frameId}`, { cause: err })
    }
    if (bytes) return bytes
    return this.#legacy ? this.#legacy.load(frameId, variant) : null
  }

  async remove(_sql: unknown, frameIds: readonly string[]): Promise<void> {
    try {
      await this.#request({ op: 'delete', frameIds })
    } catch (err) {
      throw new StorageError('io', `could not remove the images of ${frameIds.length} frame(s) from ${this.file}`, { cause: err })
    }
    await this.#legacy?.remove(frameIds)
  }

  /** Writes what was asked before, then closes the file and ends the thread. */
  close(): Promise<void> {
    return this.#thread.close({ op: 'close' } satisfies Request)
  }

  #request(req: Request): Promise<Reply> {
    return this.#thread.request(req)
  }
}
