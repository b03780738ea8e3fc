/**
 * Paired tablets. An administrator adds a station (one line and station) or a kiosk (its lines);
 * the device gets a short pairing code, single use, valid for `PAIRING_CODE_TTL_MS`. Whoever
 * types the code gets the device's long-lived token, scoped like the device. Only hashes of codes
 * and tokens are kept. Creating, pairing, renaming and revoking are audited in the same
 * transaction as the change.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto'
import { isId } from '../../shared/domain/ids.ts'
import type { AuditLog } from './audit.ts'
import { invalid } from './errors.ts'
import type { LineStore } from './lines.ts'
import type { Db } from './sql.ts'
import type { TokenStore } from './tokens.ts'

export type DeviceKind = 'station' | 'kiosk'
export const PAIRING_CODE_TTL_MS = 10 * 60_000
/** No 0/O, 1/I/L: a code is read off a screen and typed on a tablet. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const CODE_LENGTH = 8
/** Last-seen is written at most this often per device: it is informative, not a log. */
const SEEN_EVERY_MS = 30_000

export interface NewDevice {
  kind: DeviceKind
  /** A station's one line, or a kiosk's lines. */
  lines: readonly string[]
  station?: string
  name?: string
}

export interface DeviceInfo {
  id: string
  kind: DeviceKind
  name: string
  lines: string[]
  station?: string
  status: 'pending' | 'expired' | 'paired' | 'revoked'
  createdBy: string
  createdAt: number
  /** When the pairing code stops working. */
  expiresAt: number
  pairedAt?: number
  lastSeenAt?: number
  address?: string
  userAgent?: string
  revokedAt?: number
  /** The token pairing issued; its sockets are closed when the device is revoked. */
  tokenId?: string
}

interface DeviceRow {
  id: string
  kind: DeviceKind
  name: string
  lines: string
  station: string | null
  code_hash: string | null
  code_expires_at: number
  token_id: string | null
  paired_at: number | null
  last_seen_at: number | null
  address: string | null
  user_agent: string | null
  created_by: string
  created_at: number
  revoked_at: number | null
}

const COLUMNS = 'id, kind, name, lines, station, code_hash, code_expires_at, token_id, paired_at, last_seen_at, address, user_agent, created_by, created_at, revoked_at'
const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex')

/** Upper case, without the spaces and dashes people type between the groups. */
export function normaliseCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z0-9]/g, '')
}

function newCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('')
}

function info(r: DeviceRow, now = Date.now()): DeviceInfo {
  const d: DeviceInfo = {
    id: r.id,
    kind: r.kind,
    name: r.name,
    lines: JSON.parse(r.lines) as string[],
    status: r.revoked_at !== null ? 'revoked' : r.paired_at !== null ? 'paired' : Number(r.code_expires_at) <= now ? 'expired' : 'pending',
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.code_expires_at),
  }
  if (r.station !== null) d.station = r.station
  if (r.paired_at !== null) d.pairedAt = Number(r.paired_at)
  if (r.last_seen_at !== null) d.lastSeenAt = Number(r.last_seen_at)
  if (r.address !== null) d.address = r.address
  if (r.user_agent !== null) d.userAgent = r.user_agent
  if (r.revoked_at !== null) d.revokedAt = Number(r.revoked_at)
  if (r.token_id !== null) d.tokenId = r.token_id
  return d
}

function validate(d: NewDevice): { lines: string[]; station?: string; name: string } {
  const lines = [...new Set(d.lines)].sort()
  if (!lines.length || !lines.every(isId)) throw invalid('lines must be one or more line ids')
  if (d.kind === 'station') {
    if (lines.length !== 1) throw invalid('a station has exactly one line')
    if (!isId(d.station)) throw invalid('a station needs a station id')
  } else if (d.kind === 'kiosk') {
    if (d.station !== undefined) throw invalid('a kiosk has no station')
  } else {
    throw invalid('kind must be station or kiosk')
  }
  const name = d.name?.trim() || (d.kind === 'station' ? `Station ${lines[0]}/${d.station}` : `Kiosk ${lines.join(', ')}`)
  if (name.length > 100) throw invalid('name must be at most 100 characters')
  return { lines, name, ...(d.station !== undefined ? { station: d.station } : {}) }
}

export class DeviceStore {
  readonly #db: Db
  readonly #audit: AuditLog
  readonly #tokens: TokenStore
  readonly #lines: LineStore
  readonly #seen = new Map<string, number>()

  constructor(db: Db, audit: AuditLog, tokens: TokenStore, lines: LineStore) {
    this.#db = db
    this.#audit = audit
    this.#tokens = tokens
    this.#lines = lines
  }

  /** A new device waiting to be paired, and its code: the only time the code exists in clear. */
  async create(d: NewDevice, createdBy: string): Promise<{ device: DeviceInfo; code: string }> {
    const v = validate(d)
    const code = newCode()
    const now = Date.now()
    const id = `dev-${randomBytes(8).toString('hex')}`
    const device = await this.#db.transaction(async (tx) => {
      // an administrator naming a new line makes it
      for (const line of v.lines) await this.#lines.createIn(tx, line, createdBy)
      const row = await tx.one<DeviceRow>(
        `INSERT INTO devices (id, kind, name, lines, station, code_hash, code_expires_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [id, d.kind, v.name, JSON.stringify(v.lines), v.station ?? null, hashCode(code), now + PAIRING_CODE_TTL_MS, createdBy, now],
      )
      if (!row) throw new Error('INSERT ... RETURNING returned no row')
      await this.#audit.appendIn(tx, { actor: createdBy, action: 'device.create', target: id, after: { kind: d.kind, lines: v.lines, station: v.station ?? null, name: v.name } })
      return info(row)
    })
    return { device, code }
  }

  /**
   * Trades a pairing code for the device's token. Null for a code that is unknown, used, expired
   * or revoked: the caller cannot tell which, so codes cannot be probed.
   */
  async pair(code: string, from: { address: string; userAgent: string }): Promise<{ secret: string; device: DeviceInfo } | null> {
    const hash = hashCode(normaliseCode(code))
    return this.#db.transaction(async (tx) => {
      const now = Date.now()
      const row = await tx.one<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE code_hash = $1`, [hash])
      if (!row || row.paired_at !== null || row.revoked_at !== null || Number(row.code_expires_at) <= now) return null
      const lines = JSON.parse(row.lines) as string[]
      const { secret, token } = await this.#tokens.createTokenIn(tx, {
        role: row.kind,
        lines,
        ...(row.station !== null ? { station: row.station } : {}),
        label: row.name,
        createdBy: `device:${row.id}`,
      })
      // the code is single use: its hash goes with it
      const paired = await tx.one<DeviceRow>(
        `UPDATE devices SET code_hash = NULL, token_id = $1, paired_at = $2, last_seen_at = $2, address = $3, user_agent = $4 WHERE id = $5 AND paired_at IS NULL RETURNING ${COLUMNS}`,
        [token.id, now, from.address.slice(0, 100), from.userAgent.slice(0, 300), row.id],
      )
      if (!paired) return null
      await this.#audit.appendIn(tx, { actor: `device:${row.id}`, action: 'device.pair', target: row.id, after: { token: token.id, address: from.address.slice(0, 100) } })
      return { secret, device: info(paired, now) }
    })
  }

  /** Newest first, revoked ones included. */
  async list(): Promise<DeviceInfo[]> {
    const now = Date.now()
    return (await this.#db.all<DeviceRow>(`SELECT ${COLUMNS} FROM devices ORDER BY created_at DESC, id DESC`)).map((r) => info(r, now))
  }

  async get(id: string): Promise<DeviceInfo | null> {
    const row = await this.#db.one<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE id = $1`, [id])
    return row ? info(row) : null
  }

  async rename(id: string, name: string, actor: string): Promise<DeviceInfo | null> {
    const clean = name.trim()
    if (!clean || clean.length > 100) throw invalid('name must be 1-100 characters')
    return this.#db.transaction(async (tx) => {
      const before = await tx.one<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE id = $1`, [id])
      if (!before) return null
      const row = await tx.one<DeviceRow>(`UPDATE devices SET name = $1 WHERE id = $2 RETURNING ${COLUMNS}`, [clean, id])
      await this.#audit.appendIn(tx, { actor, action: 'device.rename', target: id, before: { name: before.name }, after: { name: clean } })
      return row ? info(row) : null
    })
  }

  /** Revokes the device and its token; null when there is no such device or it was revoked already. */
  async revoke(id: string, actor: string): Promise<DeviceInfo | null> {
    return this.#db.transaction(async (tx) => {
      const row = await tx.one<DeviceRow>(`UPDATE devices SET revoked_at = $1, code_hash = NULL WHERE id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [Date.now(), id])
      if (!row) return null
      await this.#audit.appendIn(tx, { actor, action: 'device.revoke', target: id })
      if (row.token_id !== null) await this.#tokens.revokeIn(tx, row.token_id, actor)
      return info(row)
    })
  }

  /** Notes that a device's token was used; written at most every SEEN_EVERY_MS per token. */
  async seen(tokenId: string, from: { address: string; userAgent?: string }): Promise<void> {
    const now = Date.now()
    if ((this.#seen.get(tokenId) ?? 0) > now - SEEN_EVERY_MS) return
    if (this.#seen.size > 10_000) this.#seen.clear()
    this.#seen.set(tokenId, now)
    await this.#db.run(
      'UPDATE devices SET last_seen_at = $1, address = $2, user_agent = COALESCE($3, user_agent) WHERE token_id = $4',
      [now, from.address.slice(0, 100), from.userAgent?.slice(0, 300) ?? null, tokenId],
    )
  }
}
