/**
 * Loads uWebSockets.js and tells whether its native binary loaded. The npm alias we install
 * (@trufflesuite/uws-js-unofficial, upstream v20.30 binaries for Node 18/20) silently falls back
 * to a slow pure-JS server when no binary matches this Node (e.g. Node 22); linesight logs that,
 * shows it in /ready, and the README says how to install upstream's own release instead.
 */
import { createRequire } from 'node:module'
import type * as Uws from 'uWebSockets.js'

const require = createRequire(import.meta.url)

function load(): { uws: typeof Uws; warning?: string } {
  const original = console.warn
  const warnings: string[] = []
  // The package reports the fallback with console.warn only; capture it to report it properly.
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '))
  try {
    return { uws: require('uWebSockets.js') as typeof Uws, warning: warnings.join('\n') || undefined }
  } finally {
    console.warn = original
  }
}

const loaded = load()
export const uws = loaded.uws
/** True when the native binary is in use; false on the slow JavaScript fallback. */
export const uwsNative = String(uws.App).includes('[native code]')
export const uwsLoadWarning = loaded.warning
export const uwsImplementation = uwsNative
  ? `native (Node ABI ${process.versions.modules})`
  : `JavaScript fallback: no uWebSockets.js binary for Node ${process.version} (ABI ${process.versions.modules})`
