/**
 * Loads uWebSockets.js: the first native binary that works for this Node ABI and C library, in
 * order of preference (see uws-choice.ts for the rules). Both packages are npm aliases:
 *  - `uws-btc-vision` = @btc-vision/uwebsockets.js 20.57: binaries for Node 20, 22, 24 and 25, linked
 *    against glibc 2.38 (Debian 13, Ubuntu 24.04), so it is skipped on Debian 12;
 *  - `uWebSockets.js` = @trufflesuite/uws-js-unofficial 20.30: binaries up to Node 20 on older
 *    glibc, and the pure-JavaScript fallback, which is used only with UWS_ALLOW_JS_FALLBACK=true.
 * Each binary is loaded by path, not through the package's entry point, because the trufflesuite
 * entry point falls back to JavaScript silently.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as Uws from 'uWebSockets.js'
import { chooseUws, describeUws, type UwsCandidate, type UwsChoice, type UwsPlatform } from './uws-choice.ts'

const require = createRequire(import.meta.url)
type UwsApi = typeof Uws

const file = (p: UwsPlatform) => `uws_${p.platform}_${p.arch}_${p.abi}.node`

/** Resolved lazily: a package missing from node_modules is a skip with its reason, not a crash. */
function packageDir(alias: string): string {
  try {
    return dirname(require.resolve(alias))
  } catch {
    return join('node_modules', alias, '(not installed)')
  }
}

export const UWS_CANDIDATES: UwsCandidate[] = [
  { name: '@btc-vision/uwebsockets.js', minGlibc: '2.38', binaryPath: (p) => join(packageDir('uws-btc-vision'), file(p)) },
  { name: '@trufflesuite/uws-js-unofficial', binaryPath: (p) => join(packageDir('uWebSockets.js'), '..', 'binaries', file(p)) },
]

export function currentPlatform(): UwsPlatform {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
  return { platform: process.platform, arch: process.arch, abi: process.versions.modules, glibc: header?.glibcVersionRuntime }
}

export interface UwsStatus {
  native: boolean
  package: string
  binary?: string
  implementation: string
  skipped: { name: string; reason: string }[]
}

let chosen: { choice: UwsChoice<UwsApi>; status: UwsStatus } | undefined

/**
 * Chooses once per process; later calls return the same choice. Throws UwsUnavailableError when no
 * native binary loads and the JavaScript fallback is not allowed.
 */
export function selectUws(allowJsFallback: boolean): UwsStatus {
  if (!chosen) {
    const platform = currentPlatform()
    const choice = chooseUws<UwsApi>(
      platform,
      UWS_CANDIDATES,
      {
        exists: existsSync,
        load: (path) => require(path) as UwsApi,
        fallback: () => require('uWebSockets.js/dist/index') as UwsApi,
      },
      allowJsFallback,
    )
    const status = { native: choice.native, package: choice.name, binary: choice.binary, implementation: describeUws(choice, platform), skipped: choice.skipped }
    chosen = { choice, status }
  }
  return chosen.status
}

/** The loaded uWebSockets.js; chooses with the fallback refused when nothing chose yet. */
export function uws(): UwsApi {
  selectUws(false)
  return chosen!.choice.api
}
