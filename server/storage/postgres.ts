/**
 * The shared store: PostgreSQL, for several gateway processes or hosts. Images are kept in the
 * database too (image-table.ts says why), settings changes are pushed with LISTEN/NOTIFY.
 */
import { consoleLogger } from './errors.ts'
import { TableImageStore } from './image-table.ts'
import { PgDb } from './pg-db.ts'
import { PgNotifyFeed } from './pg-notify.ts'
import { SqlStore } from './store.ts'
import type { StoreOptions } from './types.ts'

export interface PostgresStoreOptions extends StoreOptions {
  /** DATABASE_URL. */
  connectionString: string
  /** Keep the tables in this schema instead of the connection's default (tests use one per run). */
  schema?: string
  /** @default 10 */
  poolSize?: number
}

/** Opens the store (connections are made lazily); call `migrate()` before using it. */
export function openPostgresStore(opts: PostgresStoreOptions): SqlStore {
  const log = opts.log ?? consoleLogger
  const connection = { connectionString: opts.connectionString, ...(opts.schema === undefined ? {} : { schema: opts.schema }) }
  const db = new PgDb({ ...connection, log, ...(opts.poolSize === undefined ? {} : { poolSize: opts.poolSize }) })
  return new SqlStore({
    db,
    images: new TableImageStore(),
    feed: new PgNotifyFeed(connection, log),
    policy: { keep: opts.storeImages ?? 'fail', originals: opts.storeOriginals ?? true },
    log,
    ...(opts.tokenCacheTtlMs === undefined ? {} : { tokenCacheTtlMs: opts.tokenCacheTtlMs }),
  })
}
