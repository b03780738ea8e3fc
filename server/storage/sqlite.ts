/**
 * The embedded store: one SQLite file (WAL) in the data folder, its images in a second one beside it.
 * Several processes on one host may share it; writers take turns (BEGIN IMMEDIATE, waiting up
 * to the busy timeout), readers never wait.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PollingFeed } from './change-feed.ts'
import { consoleLogger } from './errors.ts'
import { SqliteImageStore } from './image-db.ts'
import { SqliteDb } from './sqlite-db.ts'
import { SqlStore } from './store.ts'
import type { StoreOptions } from './types.ts'

export const SQLITE_FILE = 'linesight.db'
/** The images of the results (image-db.ts); `images/` beside it holds those of earlier releases. */
export const IMAGES_FILE = 'images.db'

export interface SqliteStoreOptions extends StoreOptions {
  /** LINESIGHT_DATA_DIR: holds `linesight.db` and `images.db` (and `images/` from earlier releases). */
  dataDir: string
}

/** Opens (creating when absent) the store; call `migrate()` before using it. */
export function openSqliteStore(opts: SqliteStoreOptions): SqlStore {
  mkdirSync(opts.dataDir, { recursive: true })
  const log = opts.log ?? consoleLogger
  const db = new SqliteDb({ file: join(opts.dataDir, SQLITE_FILE), log })
  return new SqlStore({
    db,
    images: new SqliteImageStore(join(opts.dataDir, IMAGES_FILE), join(opts.dataDir, 'images')),
    feed: new PollingFeed(db, log, opts.settingsPollMs),
    policy: { keep: opts.storeImages ?? 'fail', originals: opts.storeOriginals ?? true },
    log,
    ...(opts.tokenCacheTtlMs === undefined ? {} : { tokenCacheTtlMs: opts.tokenCacheTtlMs }),
  })
}
