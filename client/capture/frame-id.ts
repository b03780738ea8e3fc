/**
 * Frame ids: unique across stations and reloads, and within the shared id alphabet
 * (shared/domain/ids.ts). crypto.randomUUID needs a secure context; a tablet on plain http over
 * the LAN has only getRandomValues, which is enough.
 */
export function newFrameId(): string {
  const c = globalThis.crypto
  if (typeof c.randomUUID === 'function') return c.randomUUID()
  const bytes = c.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
