/**
 * tus upload state, shared by every gateway: one row per upload, its description as JSON, and a
 * lease that says which process is writing to (or unpacking) it. Any gateway can answer HEAD for
 * an upload another gateway created, and take over its PATCHes; the lease makes sure only one
 * writes at a time, and a gateway that died holding one loses it when the lease runs out.
 *
 * The upload's bytes are not here: they are a file on a volume every gateway mounts (UPLOAD_DIR).
 */
import type { Db } from './sql.ts'

/** The columns queried; everything else about an upload travels in `info` (server/uploads). */
export interface UploadStateRow {
  id: string
  state: string
  owner: string
  length: number
  updatedAt: number
  finishedAt?: number
  /** JSON of server/uploads' UploadInfo. */
  info: string
}

interface Row {
  id: string
  state: string
  owner: string
  length: number | string
  updated_at: number | string
  finished_at: number | string | null
  info: string
}

const toRow = (r: Row): UploadStateRow => {
  const u: UploadStateRow = { id: r.id, state: r.state, owner: r.owner, length: Number(r.length), updatedAt: Number(r.updated_at), info: r.info }
  if (r.finished_at !== null) u.finishedAt = Number(r.finished_at)
  return u
}

const COLUMNS = 'id, state, owner, length, updated_at, finished_at, info'

export class UploadStateStore {
  constructor(private readonly db: Db) {}

  async insert(u: UploadStateRow): Promise<void> {
    await this.db.run(`INSERT INTO uploads (${COLUMNS}, lock_until) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`, [
      u.id,
      u.state,
      u.owner,
      u.length,
      u.updatedAt,
      u.finishedAt ?? null,
      u.info,
    ])
  }

  async get(id: string): Promise<UploadStateRow | undefined> {
    const r = await this.db.one<Row>(`SELECT ${COLUMNS} FROM uploads WHERE id = $1`, [id])
    return r && toRow(r)
  }

  /** Every upload, oldest first (for the sweep). */
  async list(): Promise<UploadStateRow[]> {
    return (await this.db.all<Row>(`SELECT ${COLUMNS} FROM uploads ORDER BY updated_at, id`)).map(toRow)
  }

  /** False when the row is gone (the upload was terminated or expired meanwhile). */
  async update(u: UploadStateRow): Promise<boolean> {
    const n = await this.db.run(`UPDATE uploads SET state = $2, owner = $3, length = $4, updated_at = $5, finished_at = $6, info = $7 WHERE id = $1`, [
      u.id,
      u.state,
      u.owner,
      u.length,
      u.updatedAt,
      u.finishedAt ?? null,
      u.info,
    ])
    return n > 0
  }

  /** Deletes the row; says whether a live lease was held on it (by anyone) at that moment. */
  async delete(id: string, now: number): Promise<{ deleted: boolean; leased: boolean }> {
    return this.db.transaction(async (tx) => {
      const r = await tx.one<{ lock_holder: string | null; lock_until: number | string }>('SELECT lock_holder, lock_until FROM uploads WHERE id = $1', [id])
      if (!r) return { deleted: false, leased: false }
      await tx.run('DELETE FROM uploads WHERE id = $1', [id])
      return { deleted: true, leased: r.lock_holder !== null && Number(r.lock_until) > now }
    })
  }

  /** Declared bytes of the uploads in `states` (what they reserve on the upload volume). */
  async reservedBytes(states: readonly string[]): Promise<number> {
    const r = await this.db.one<{ n: number | string | null }>(`SELECT SUM(length) AS n FROM uploads WHERE state IN (${states.map((_, i) => `$${i + 1}`).join(', ')})`, states)
    return Number(r?.n ?? 0)
  }

  async countFor(owner: string, state: string): Promise<number> {
    const r = await this.db.one<{ n: number | string }>('SELECT COUNT(*) AS n FROM uploads WHERE owner = $1 AND state = $2', [owner, state])
    return Number(r?.n ?? 0)
  }

  /** Takes the lease when it is free, expired, or already `holder`'s; false when someone else holds it. */
  async lock(id: string, holder: string, now: number, until: number): Promise<boolean> {
    const n = await this.db.run('UPDATE uploads SET lock_holder = $2, lock_until = $4 WHERE id = $1 AND (lock_holder IS NULL OR lock_holder = $2 OR lock_until <= $3)', [id, holder, now, until])
    return n > 0
  }

  /** Extends `holder`'s lease; false when the row is gone or the lease was lost to someone else. */
  async renew(id: string, holder: string, until: number): Promise<boolean> {
    return (await this.db.run('UPDATE uploads SET lock_until = $3 WHERE id = $1 AND lock_holder = $2', [id, holder, until])) > 0
  }

  async unlock(id: string, holder: string): Promise<void> {
    await this.db.run('UPDATE uploads SET lock_holder = NULL, lock_until = 0 WHERE id = $1 AND lock_holder = $2', [id, holder])
  }

  /** Drops every lease: for a store only one process can open (SQLite), at its start. */
  async unlockAll(): Promise<void> {
    await this.db.run('UPDATE uploads SET lock_holder = NULL, lock_until = 0 WHERE lock_holder IS NOT NULL')
  }

  /** Ids in `states` whose lease is free or ran out: work a dead process left. */
  async abandoned(states: readonly string[], now: number): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>(
      `SELECT id FROM uploads WHERE state IN (${states.map((_, i) => `$${i + 2}`).join(', ')}) AND (lock_holder IS NULL OR lock_until <= $1) ORDER BY updated_at, id`,
      [now, ...states],
    )
    return rows.map((r) => r.id)
  }
}
