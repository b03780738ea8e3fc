/**
 * Opens the store the configuration asks for: PostgreSQL when DATABASE_URL is set, otherwise
 * SQLite in the data folder. The store comes back migrated and ready.
 */
import type { Logger } from './errors.ts'
import { openPostgresStore } from './postgres.ts'
import { openSqliteStore } from './sqlite.ts'
import type { SqlStore } from './store.ts'

/** The settings the store reads (a `Config` fits). */
export interface StoreConfig {
  /** DATABASE_URL; unset (or empty) picks SQLite. */
  databaseUrl?: string | undefined
  /** LINESIGHT_DATA_DIR. */
  dataDir: string
  /** STORE_IMAGES. */
  storeImages: 'fail' | 'all' | 'none'
  /** STORE_ORIGINALS. */
  storeOriginals: boolean
}

export async function openStore(config: StoreConfig, log?: Logger): Promise<SqlStore> {
  const common = { storeImages: config.storeImages, storeOriginals: config.storeOriginals, ...(log ? { log } : {}) }
  const store = config.databaseUrl ? openPostgresStore({ ...common, connectionString: config.databaseUrl }) : openSqliteStore({ ...common, dataDir: config.dataDir })
  try {
    await store.migrate()
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}

export { StorageError, type StorageErrorCode, type Logger } from './errors.ts'
export { startRetention } from './retention.ts'
export { openPostgresStore, type PostgresStoreOptions } from './postgres.ts'
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.ts'
export type { SqlStore } from './store.ts'
export type { Store, ResultStore, ResultQuery, ResultPage, StoredImage, HourCount, ClassCount, StoreOptions } from './types.ts'
export type { TokenIdentity, TokenInfo, TokenRole } from './tokens.ts'
export type { AuditEntry, AuditInput } from './audit.ts'
export type { SettingsDoc } from './settings-store.ts'
export type { LoadSample, LoadSampleInput } from './load-history.ts'
export type { Job, JobStatus } from './jobs.ts'
