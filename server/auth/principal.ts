/**
 * Who is calling. Tokens carry a role and, for stations and kiosks, the lines they may touch.
 * With AUTH_REQUIRED off (a trusted plant network), callers without a token are `anonymous`
 * with station/kiosk rights on every line; admin routes always need an admin token.
 */
export type Role = 'admin' | 'station' | 'kiosk'

export interface Principal {
  role: Role | 'anonymous'
  /** Lines this principal may use; '*' for all. */
  lines: readonly string[] | '*'
  tokenId?: string
  label?: string
}

export const ANONYMOUS: Principal = { role: 'anonymous', lines: '*' }

export function canUseLine(p: Principal, line: string): boolean {
  return p.lines === '*' || p.lines.includes(line)
}

export function describePrincipal(p: Principal): string {
  return p.tokenId ? `${p.role}:${p.label ?? p.tokenId}` : p.role
}
