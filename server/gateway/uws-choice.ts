/**
 * Which uWebSockets.js binary to load, decided without loading uWS itself (testable by calling a
 * function). Candidates are tried in order of preference and every one skipped keeps its reason,
 * like onnxruntime's backend-impl: the log and /ready say what loaded and why the others did not.
 * The pure-JavaScript fallback is a last resort that must be asked for (it is several times slower
 * and the packages never said loudly when they used it).
 */

/** What a native binary has to match. `glibc` is undefined off glibc (macOS, Windows, musl). */
export interface UwsPlatform {
  platform: string
  arch: string
  /** Node's module ABI, `process.versions.modules` (115 = Node 20, 127 = 22, 137 = 24, 141 = 25). */
  abi: string
  glibc?: string
}

export interface UwsCandidate {
  /** The npm package, as its publisher names it. */
  name: string
  /** Lowest glibc its Linux binaries were linked against. */
  minGlibc?: string
  /** Where its binary for this platform would be. */
  binaryPath(p: UwsPlatform): string
}

export interface UwsSkip {
  name: string
  reason: string
}

export interface UwsChoice<T> {
  api: T
  /** The package that loaded, or `javascript-fallback`. */
  name: string
  native: boolean
  binary?: string
  skipped: UwsSkip[]
}

export interface UwsLoaderIo<T> {
  exists: (path: string) => boolean
  /** Loads a native binary; throws when the dynamic loader refuses it. */
  load(path: string): T
  /** The pure-JavaScript implementation. */
  fallback(): T
}

export const JS_FALLBACK = 'javascript-fallback'

/** Thrown when no native binary loads and the JavaScript fallback was not allowed. */
export class UwsUnavailableError extends Error {
  override name = 'UwsUnavailableError'
  readonly code = 'uws_unavailable'
  constructor(readonly skipped: UwsSkip[]) {
    super(
      `no uWebSockets.js native binary loads here (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}). ` +
        'Set UWS_ALLOW_JS_FALLBACK=true to run the slow JavaScript server instead.',
    )
  }
}

/** Compares dotted versions numerically: `2.36` < `2.38` < `2.100`. */
export function versionAtLeast(have: string, need: string): boolean {
  const a = have.split('.').map(Number)
  const b = need.split('.').map(Number)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}

/** Why `candidate` cannot load here before trying it, or undefined when it may. */
function precheck(candidate: UwsCandidate, p: UwsPlatform, exists: (path: string) => boolean): string | undefined {
  if (candidate.minGlibc && p.platform === 'linux') {
    if (p.glibc === undefined) return `needs glibc ${candidate.minGlibc}; this Linux has no glibc (musl?)`
    if (!versionAtLeast(p.glibc, candidate.minGlibc)) return `needs glibc ${candidate.minGlibc}, this system has glibc ${p.glibc}`
  }
  const path = candidate.binaryPath(p)
  if (!exists(path)) return `no binary for Node ABI ${p.abi} on ${p.platform}-${p.arch} (${path} is missing)`
  return undefined
}

export function chooseUws<T>(p: UwsPlatform, candidates: UwsCandidate[], io: UwsLoaderIo<T>, allowJsFallback: boolean): UwsChoice<T> {
  const skipped: UwsSkip[] = []
  for (const candidate of candidates) {
    const reason = precheck(candidate, p, io.exists)
    if (reason) {
      skipped.push({ name: candidate.name, reason })
      continue
    }
    const binary = candidate.binaryPath(p)
    try {
      return { api: io.load(binary), name: candidate.name, native: true, binary, skipped }
    } catch (err) {
      skipped.push({ name: candidate.name, reason: `its binary did not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` })
    }
  }
  if (!allowJsFallback) throw new UwsUnavailableError(skipped)
  return { api: io.fallback(), name: JS_FALLBACK, native: false, skipped }
}

/** One line for the log and /ready. */
export function describeUws(choice: Pick<UwsChoice<unknown>, 'name' | 'native' | 'skipped'>, p: UwsPlatform): string {
  const where = `Node ABI ${p.abi}, ${p.platform}-${p.arch}${p.glibc ? `, glibc ${p.glibc}` : ''}`
  const head = choice.native ? `native ${choice.name} (${where})` : `JavaScript fallback (${where})`
  return choice.skipped.length ? `${head}; skipped ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` : head
}
