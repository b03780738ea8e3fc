/**
 * Turns request credentials into a Principal and enforces a route's access level. Tokens come
 * from `Authorization: Bearer <token>` or, where browsers cannot set headers (WebSocket
 * upgrades, <img> URLs), from a `token` query parameter.
 */
import type { Access } from '../api/types.ts'
import { HttpError } from '../errors.ts'
import { ANONYMOUS, canSend, canUseLine, type Principal, type Role } from './principal.ts'

export interface VerifiedToken {
  id: string
  role: Role
  lines: readonly string[] | '*'
  label?: string
}

export interface TokenVerifier {
  verify(secret: string): Promise<VerifiedToken | null>
}

export function tokenFrom(headers: Readonly<Record<string, string>>, query: URLSearchParams): string | undefined {
  const auth = headers.authorization
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim()
  return query.get('token') ?? undefined
}

export class Authenticator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly authRequired: boolean,
  ) {}

  async principalFor(secret: string | undefined): Promise<Principal | null> {
    if (secret === undefined || secret === '') return this.authRequired ? null : ANONYMOUS
    const t = await this.verifier.verify(secret)
    if (!t) return null
    const p: Principal = { role: t.role, lines: t.role === 'admin' ? '*' : t.lines, tokenId: t.id }
    if (t.label) p.label = t.label
    return p
  }

  /** Checks a request against a route's access level; throws 401/403 HttpErrors. */
  async authorize(headers: Readonly<Record<string, string>>, query: URLSearchParams, access: Access): Promise<Principal> {
    if (access === 'public') return ANONYMOUS
    const secret = tokenFrom(headers, query)
    const principal = await this.principalFor(secret)
    if (!principal) {
      throw new HttpError(401, secret ? 'invalid_token' : 'unauthorized', secret ? 'the token is not valid (revoked or mistyped)' : 'a token is required', {
        headers: { 'www-authenticate': 'Bearer realm="linesight"' },
      })
    }
    if (access === 'admin' && principal.role !== 'admin') {
      throw new HttpError(principal.role === 'anonymous' ? 401 : 403, principal.role === 'anonymous' ? 'unauthorized' : 'forbidden', 'this needs an admin token', {
        headers: principal.role === 'anonymous' ? { 'www-authenticate': 'Bearer realm="linesight"' } : {},
      })
    }
    if (access === 'station' && !canSend(principal)) throw new HttpError(403, 'forbidden', `a ${principal.role} token cannot send frames`)
    // Every route that names its line in the query (`detect`, `results`...) is checked here once,
    // so a route cannot forget it; lines in paths and bodies are checked by their handlers.
    const line = query.get('line')
    if (line !== null && !canUseLine(principal, line)) throw new HttpError(403, 'forbidden', `this token may not use line ${line.slice(0, 64)}`)
    return principal
  }
}
