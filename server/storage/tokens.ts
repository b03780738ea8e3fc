/**
 * Access tokens. The secret is shown once, at creation; the database keeps only its sha256, so
 * a leaked backup grants nothing. Creating and revoking are audited in the same transaction.
 *
 * `verify` results are cached for a few seconds per process (it runs on every request and
 * socket); a revocation therefore takes effect at once in the revoking process and within
 * `cacheTtlMs` in the others.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { isId } from '../../shared/domain/ids.ts'
import type { AuditLog } from './audit.ts'
import { invalid } from './errors.ts'
import { placeholders, type Db, type Tx } from './sql.ts'

/** `metrics`: a Prometheus scraper's, good for /metrics only. */
export type TokenRole = 'station' | 'kiosk' | 'admin' | 'metrics'
export const TOKEN_ROLES: readonly TokenRole[] = ['station', 'kiosk', 'admin', 'metrics']
/** Roles that are not scoped to lines. */
const UNSCOPED: readonly TokenRole[] = ['admin', 'metrics']

/** What a verified token grants. */
export interface TokenIdentity {
  id: string
  role: TokenRole
  /** The lines a station or kiosk token is scoped to; empty for admin. */
  lines: string[]
  label: string
  /** A paired station's token may send as this one station only. */
  station?: string
}

export interface TokenInfo extends TokenIdentity {
  createdBy: string
  createdAt: number
  revokedAt?: number
}

export interface NewToken {
  role: TokenRole
  lines?: readonly string[]
  station?: string
  label: string
  createdBy: string
}

interface TokenRow {
  id: string
  hash: string
  role: TokenRole
  lines: string
  label: string
  created_by: string
  created_at: number
  revoked_at: number | null
  station: string | null
}

const COLUMNS = 'id, hash, role, lines, label, created_by, created_at, revoked_at, station'
const SECRET_PREFIX = 'ls_'
/** Shortest LINESIGHT_ADMIN_TOKEN accepted; a generated secret has 46 characters. */
const MIN_SECRET_LENGTH = 16
const MAX_SECRET_LENGTH = 256
const CACHE_MAX = 10_000

export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest()
const newSecret = () => SECRET_PREFIX + randomBytes(32).toString('base64url')
const newId = () => `tok-${randomBytes(8).toString('hex')}`

function info(r: TokenRow): TokenInfo {
  const t: TokenInfo = { id: r.id, role: r.role, lines: JSON.parse(r.lines) as string[], label: r.label, createdBy: r.created_by, createdAt: Number(r.created_at) }
  if (r.revoked_at !== null) t.revokedAt = Number(r.revoked_at)
  if (r.station !== null) t.station = r.station
  return t
}

function validate(t: NewToken): string[] {
  if (!TOKEN_ROLES.includes(t.role)) throw invalid(`role must be one of ${TOKEN_ROLES.join(', ')}`)
  const lines = [...new Set(t.lines ?? [])]
  if (!lines.every(isId)) throw invalid('lines must be line ids')
  if (UNSCOPED.includes(t.role) && lines.length) throw invalid(`an ${t.role} token is not scoped to lines`)
  if (t.station !== undefined && (t.role !== 'station' || lines.length !== 1 || !isId(t.station))) throw invalid('only a station token of one line names a station, and it must be an id')
  if (!UNSCOPED.includes(t.role) && !lines.length) throw invalid(`a ${t.role} token needs at least one line`)
  if (typeof t.label !== 'string' || !t.label.trim() || t.label.length > 100) throw invalid('label must be 1-100 characters')
  if (typeof t.createdBy !== 'string' || !t.createdBy) throw invalid('createdBy is required')
  return lines.sort()
}

export class TokenStore {
  readonly #db: Db
  readonly #audit: AuditLog
  readonly #ttlMs: number
  readonly #cache = new Map<string, { identity: TokenIdentity; expires: number }>()

  constructor(db: Db, audit: AuditLog, opts: { cacheTtlMs?: number } = {}) {
    this.#db = db
    this.#audit = audit
    this.#ttlMs = opts.cacheTtlMs ?? 5000
  }

  /** Returns the secret: the only time it exists outside the caller's hands. */
  async createToken(t: NewToken): Promise<{ secret: string; token: TokenInfo }> {
    const lines = validate(t)
    const secret = newSecret()
    const token = await this.#db.transaction((tx) => this.#insert(tx, { ...t, lines }, secret))
    return { secret, token }
  }

  /** As `createToken`, inside the caller's transaction (pairing a device). */
  async createTokenIn(tx: Tx, t: NewToken): Promise<{ secret: string; token: TokenInfo }> {
    const lines = validate(t)
    const secret = newSecret()
    return { secret, token: await this.#insert(tx, { ...t, lines }, secret) }
  }

  async #insert(tx: Tx, t: NewToken & { lines: string[] }, secret: string): Promise<TokenInfo> {
    const id = newId()
    const row = await tx.one<TokenRow>(
      `INSERT INTO tokens (id, hash, role, lines, label, created_by, created_at, station) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING ${COLUMNS}`,
      [id, hashSecret(secret).toString('hex'), t.role, JSON.stringify(t.lines), t.label, t.createdBy, Date.now(), t.station ?? null],
    )
    if (!row) throw new Error('INSERT ... RETURNING returned no row')
    await this.#audit.appendIn(tx, { actor: t.createdBy, action: 'token.create', target: id, after: { role: t.role, lines: t.lines, label: t.label, ...(t.station ? { station: t.station } : {}) } })
    return info(row)
  }

  /** The identity of a valid, unrevoked token; null for anything else. */
  async verify(secret: string): Promise<TokenIdentity | null> {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH) return null
    const hash = hashSecret(secret)
    const key = hash.toString('hex')
    const now = Date.now()
    const cached = this.#cache.get(key)
    if (cached && cached.expires > now) return cached.identity
    const row = await this.#db.one<TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE hash = $1`, [key])
    // the index found the row by hash; compare again in constant time so no timing difference
    // depends on how much of the hash matched
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), hash) || row.revoked_at !== null) {
      this.#cache.delete(key)
      return null
    }
    const { id, role, lines, label, station } = info(row)
    const identity: TokenIdentity = { id, role, lines, label, ...(station ? { station } : {}) }
    // only valid tokens are cached: a flood of wrong secrets cannot grow the cache
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!)
    this.#cache.set(key, { identity, expires: now + this.#ttlMs })
    return identity
  }

  /** Every token, newest first, revoked ones included; never a secret or hash. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.#db.all<TokenRow>(`SELECT ${COLUMNS} FROM tokens ORDER BY created_at DESC, id DESC`)
    return rows.map(info)
  }

  /** Which of these token ids are revoked, read from the database (not the cache). */
  async revokedAmong(ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return []
    const rows = await this.#db.all<{ id: string }>(`SELECT id FROM tokens WHERE revoked_at IS NOT NULL AND id IN (${placeholders(ids.length, 1)})`, ids)
    return rows.map((r) => r.id)
  }

  /** False when there is no such token or it was already revoked. */
  async revoke(id: string, actor = 'system'): Promise<boolean> {
    const revoked = await this.#db.transaction((tx) => this.revokeIn(tx, id, actor))
    // which cache entry belongs to this id is unknown without the secret; start over
    if (revoked) this.#cache.clear()
    return revoked
  }

  /** As `revoke`, inside the caller's transaction; the cache is cleared once it committed. */
  async revokeIn(tx: Tx, id: string, actor: string): Promise<boolean> {
    const n = await tx.run('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [Date.now(), id])
    if (n) {
      await this.#audit.appendIn(tx, { actor, action: 'token.revoke', target: id })
      tx.afterCommit(() => this.#cache.clear())
    }
    return n > 0
  }

  /**
   * With `secret` (LINESIGHT_ADMIN_TOKEN): makes sure an admin token with that secret exists.
   * Without: when no usable admin token exists, creates one and returns its secret, which the
   * caller prints once. Serialised across processes, so a cluster starting together creates one.
   */
  async ensureAdminToken(secret?: string): Promise<{ id: string; created: boolean; secret?: string; revoked?: boolean }> {
    if (secret !== undefined && (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH)) {
      throw invalid(`the admin token must be ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} characters`)
    }
    return this.#db.transaction(async (tx) => {
      await tx.lock('admin-token')
      if (secret !== undefined) {
        const row = await tx.one<TokenRow>(`SELECT ${COLUMNS} FROM tokens WHERE hash = $1`, [hashSecret(secret).toString('hex')])
        if (row && row.role !== 'admin') throw invalid('LINESIGHT_ADMIN_TOKEN is the secret of a non-admin token')
        // a revoked bootstrap token stays revoked: the caller warns that the variable is stale
        if (row) return row.revoked_at === null ? { id: row.id, created: false } : { id: row.id, created: false, revoked: true }
        const token = await this.#insert(tx, { role: 'admin', lines: [], label: 'bootstrap', createdBy: 'system' }, secret)
        return { id: token.id, created: true }
      }
      const existing = await tx.one<{ id: string }>("SELECT id FROM tokens WHERE role = 'admin' AND revoked_at IS NULL ORDER BY created_at LIMIT 1")
      if (existing) return { id: existing.id, created: false }
      const fresh = newSecret()
      const token = await this.#insert(tx, { role: 'admin', lines: [], label: 'bootstrap', createdBy: 'system' }, fresh)
      return { id: token.id, created: true, secret: fresh }
    })
  }
}
