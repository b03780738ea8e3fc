/**
 * Who is calling. Tokens carry a role and, for stations and kiosks, the lines they may touch; a
 * paired station's token also names its one station. With AUTH_REQUIRED off (a trusted plant
 * network), callers without a token are `anonymous` with station/kiosk rights on every line;
 * admin routes always need an admin token.
 */
export type Role = 'admin' | 'station' | 'kiosk' | 'metrics'

export interface Principal {
  role: Role | 'anonymous'
  /** Lines this principal may use; '*' for all. */
  lines: readonly string[] | '*'
  /** A paired station may send as this station only. */
  station?: string
  tokenId?: string
  label?: string
}

export const ANONYMOUS: Principal = { role: 'anonymous', lines: '*' }

export function canUseLine(p: Principal, line: string): boolean {
  return p.role !== 'metrics' && (p.lines === '*' || p.lines.includes(line))
}

/** May this principal send as this station (a paired station's token names its own)? */
export function canUseStation(p: Principal, station: string): boolean {
  return p.station === undefined || p.station === station
}

/** Who, for audit entries and `createdBy`: the token id is what identifies (labels repeat). */
export function describePrincipal(p: Principal): string {
  if (!p.tokenId) return p.role
  return p.label ? `${p.role}:${p.tokenId} (${p.label})` : `${p.role}:${p.tokenId}`
}

/** May this principal send frames (station routes and socket)? */
export function canSend(p: Principal): boolean {
  return p.role === 'station' || p.role === 'admin' || p.role === 'anonymous'
}

/** May this principal make a line by naming it: administrators, and everyone on an open network. */
export function canCreateLine(p: Principal): boolean {
  return p.role === 'admin' || p.role === 'anonymous'
}
