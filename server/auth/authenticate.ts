/**
 * Turns request credentials into a Principal and enforces a route's access level. Tokens come
 * from `Authorization: Bearer <token>` (tools, tests, the admin page, non-browser WebSocket
 * clients) or, for device routes only, from the HttpOnly cookie set at pairing (browsers cannot
 * put a header on a WebSocket upgrade or an <img>). Never from a query string: URLs end up in
 * proxy logs and browser history.
 */
import { isId } from '../../shared/domain/ids.ts'
import type { Access } from '../api/types.ts'
import { HttpError } from '../errors.ts'
import { FailureLimiter } from './failures.ts'
import { ANONYMOUS, canCreateLine, canSend, canUseLine, canUseStation, type Principal, type Role } from './principal.ts'

export const DEVICE_COOKIE = 'linesight_device'

export interface VerifiedToken {
  id: string
  role: Role
  lines: readonly string[] | '*'
  station?: string
  label?: string
}

export interface TokenVerifier {
  verify(secret: string): Promise<VerifiedToken | null>
}

/** Where lines are known and made (server/storage/lines.ts). */
export interface LineRegistry {
  exists(line: string): Promise<boolean>
  create(line: string, actor: string): Promise<boolean>
}

export interface AuthOptions {
  authRequired: boolean
  lines: LineRegistry
  /** Failed authentications per address and minute before it gets 429s. */
  failuresPerMinute: number
  /** A failed authentication; `limited`: the one that reached the limit (audit both). */
  onFailure?(address: string, code: string, limited: boolean): void
  /** A token was used, for a device's "last seen". */
  onSeen?(tokenId: string, address: string, userAgent: string | undefined): void
}

/** Access levels a paired device's cookie may open: never the admin routes (no CSRF there). */
const COOKIE_ACCESS: readonly Access[] = ['read', 'station']

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

export function tokenFrom(headers: Readonly<Record<string, string>>, access: Access): string | undefined {
  const auth = headers.authorization
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim()
  return COOKIE_ACCESS.includes(access) ? cookie(headers.cookie, DEVICE_COOKIE) : undefined
}

const unauthorized = (code: string, message: string) => new HttpError(401, code, message, { headers: { 'www-authenticate': 'Bearer realm="linesight"' } })

export class Authenticator {
  readonly #limiter: FailureLimiter

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly opts: AuthOptions,
  ) {
    this.#limiter = new FailureLimiter(opts.failuresPerMinute)
  }

  get authRequired(): boolean {
    return this.opts.authRequired
  }

  async principalFor(secret: string | undefined): Promise<Principal | null> {
    if (secret === undefined || secret === '') return this.opts.authRequired ? null : ANONYMOUS
    const t = await this.verifier.verify(secret)
    if (!t) return null
    const p: Principal = { role: t.role, lines: t.role === 'admin' ? '*' : t.lines, tokenId: t.id }
    if (t.station) p.station = t.station
    if (t.label) p.label = t.label
    return p
  }

  /** Refuses an address over its failure limit (429), before any token is looked at. */
  checkLimit(address: string): void {
    const wait = this.#limiter.retryAfterMs(address)
    if (wait > 0) {
      throw new HttpError(429, 'too_many_failures', `too many failed sign-ins from this address; try again in ${Math.ceil(wait / 1000)} s`, {
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      })
    }
  }

  /** Counts and reports a failed authentication (a bad token, a bad pairing code). */
  failed(address: string, code: string): void {
    const limited = this.#limiter.fail(address)
    this.opts.onFailure?.(address, code, limited)
  }

  /** Checks a request against a route's access level; throws 401/403/429 HttpErrors. */
  async authorize(headers: Readonly<Record<string, string>>, query: URLSearchParams, access: Access, address = ''): Promise<Principal> {
    if (access === 'public') return ANONYMOUS
    const secret = tokenFrom(headers, access)
    if (secret) this.checkLimit(address)
    const principal = await this.principalFor(secret)
    if (!principal) {
      if (secret) {
        this.failed(address, 'invalid_token')
        throw unauthorized('invalid_token', 'the token is not valid (revoked or mistyped)')
      }
      throw unauthorized('unauthorized', 'a token is required')
    }
    if (principal.tokenId) this.opts.onSeen?.(principal.tokenId, address, headers['user-agent'])
    if (access === 'admin' && principal.role !== 'admin') {
      if (principal.role === 'anonymous') throw unauthorized('unauthorized', 'this needs an admin token')
      throw new HttpError(403, 'forbidden', 'this needs an admin token')
    }
    if (access === 'metrics') {
      if (principal.role === 'metrics' || principal.role === 'admin' || principal.role === 'anonymous') return principal
      throw new HttpError(403, 'forbidden', 'this needs a metrics or admin token')
    }
    if (principal.role === 'metrics') throw new HttpError(403, 'forbidden', 'a metrics token reads /metrics only')
    if (access === 'station' && !canSend(principal)) throw new HttpError(403, 'forbidden', `a ${principal.role} token cannot send frames`)
    // Every route that names its line in the query (`detect`, `results`...) is checked here once,
    // so a route cannot forget it; lines in paths and bodies are checked by their handlers.
    const line = query.get('line')
    if (line !== null && !canUseLine(principal, line)) throw new HttpError(403, 'forbidden', `this token may not use line ${line.slice(0, 64)}`)
    if (access === 'station') {
      // (a paired station without `station` in the query sends as itself; its socket says so at hello)
      const station = query.get('station')
      if (station !== null && !canUseStation(principal, station)) {
        throw new HttpError(403, 'forbidden', `this token sends as station ${principal.station} only`)
      }
      if (line !== null) await this.admitLine(principal, line)
    }
    return principal
  }

  /**
   * A frame's line must exist; an administrator (or anyone on an open network) naming a new one
   * makes it. Throws 403 `unknown_line` otherwise.
   */
  async admitLine(principal: Principal, line: string): Promise<void> {
    if (await this.opts.lines.exists(line)) return
    // a malformed id is the route's to refuse, with its own message
    if (!isId(line)) return
    if (!canCreateLine(principal)) {
      throw new HttpError(403, 'unknown_line', `line ${line} does not exist; an administrator creates it (admin page, or by pairing a device to it)`)
    }
    await this.opts.lines.create(line, principal.tokenId ? `${principal.role}:${principal.tokenId}` : principal.role)
  }
}
