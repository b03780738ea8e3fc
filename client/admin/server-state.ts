/**
 * What the admin page says about the server's own storage, from `/ready` (server/api/health.ts):
 * the database (`store`) and the data folder's free space (`dataDir`, against DATA_MIN_FREE_MB).
 * A full disk fails SQLite and image writes; a low one soon will, so both are said plainly.
 */
export interface ReadyBody {
  store?: { kind: string; ready: boolean; error?: string }
  dataDir?: { ready: boolean; freeBytes?: number; minFreeBytes: number; error?: string }
}

/** Below this the disk is called full: SQLite cannot grow its file or WAL by a page. */
export const FULL_BELOW_BYTES = 1024 * 1024

export type DiskState =
  | { level: 'ok'; freeMb: number; minFreeMb: number }
  | { level: 'low'; freeMb: number; minFreeMb: number }
  | { level: 'full'; freeMb: number; minFreeMb: number }
  | { level: 'unknown'; error: string }

const mb = (bytes: number) => Math.floor((bytes / (1024 * 1024)) * 10) / 10

export function diskState(body: ReadyBody): DiskState {
  const d = body.dataDir
  if (!d) return { level: 'unknown', error: 'this server does not report its data folder' }
  if (d.freeBytes === undefined) return { level: 'unknown', error: d.error ?? 'free space not known' }
  const sizes = { freeMb: mb(d.freeBytes), minFreeMb: mb(d.minFreeBytes) }
  if (d.freeBytes < FULL_BELOW_BYTES) return { level: 'full', ...sizes }
  return d.ready ? { level: 'ok', ...sizes } : { level: 'low', ...sizes }
}
