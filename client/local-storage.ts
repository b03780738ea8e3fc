/**
 * The browser's localStorage, or null where it is missing or throws on access (private mode, a
 * sandboxed frame): what the app keeps there is a convenience, never required.
 */
export function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    return null
  }
}
