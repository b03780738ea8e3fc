/**
 * The production image installs `dependencies` only (`npm ci --omit=dev`): server code must not
 * import a devDependency, or the image fails at its first request that reaches that import.
 * Type-only imports vanish at run time; a lazy `await import()` of a build tool is allowed where
 * the code says so (vite in server/client-build.ts, needed only to build a missing client; wabt in
 * server/inference/planar-build.ts, which assembles the committed planar.wasm).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/server.ts'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }
const LAZY_BUILD_TOOLS = new Set(['server/client-build.ts:vite', 'server/inference/planar-build.ts:wabt'])

/** Production sources: not tests, not the test helpers kept beside the code. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return ['testing', 'contract', 'node_modules'].includes(e.name) ? [] : sources(path)
    // `*-contract.ts` are shared test suites kept beside the code they test, run by vitest only
    const test = e.name.endsWith('.test.ts') || e.name.endsWith('-contract.ts') || e.name.startsWith('bench')
    return e.name.endsWith('.ts') && !test ? [path] : []
  })
}

/** The package an import specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')

describe('runtime dependencies', () => {
  const imports = ['server', 'shared'].flatMap((d) => sources(join(ROOT, d))).flatMap((file) => {
    const text = readFileSync(file, 'utf8')
    const found: { file: string; pkg: string }[] = []
    for (const m of text.matchAll(/^\s*import\s+(type\s+)?[^'"]*?from\s+'([^'.][^']*)'|import\('([^'.][^']*)'\)/gm)) {
      if (m[1]) continue
      const spec = m[2] ?? m[3]!
      if (spec.startsWith('node:')) continue
      found.push({ file: relative(ROOT, file), pkg: packageOf(spec) })
    }
    return found
  })

  it('finds the imports it checks', () => {
    expect(imports.some((i) => i.pkg === 'zod')).toBe(true)
  })

  it('imports no devDependency from server or shared code', () => {
    const dev = imports.filter((i) => i.pkg in pkg.devDependencies && !LAZY_BUILD_TOOLS.has(`${i.file}:${i.pkg}`))
    expect(dev).toEqual([])
  })

  it('keeps browser-only and test-only packages out of the runtime dependencies', () => {
    // yaml is not here: the YOLO dataset export (server/datasets/) writes data.yaml with it
    const browserOrTest = ['onnxruntime-web', 'comlink', 'vue', 'vue-router', 'vue-i18n', 'pinia', 'idb', 'vite', 'vitest', 'playwright-core']
    expect(browserOrTest.filter((p) => p in pkg.dependencies)).toEqual([])
  })
})
