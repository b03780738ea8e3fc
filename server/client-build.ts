/**
 * `npm start` serves the built PWA; build it first when it is missing or older than its sources,
 * so `npm ci && npm start` works on a fresh clone without a separate build step.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

export function clientIsStale(root: string): boolean {
  const index = join(root, 'dist/client/index.html')
  if (!existsSync(index)) return true
  const built = statSync(index).mtimeMs
  const sources = Math.max(newestMtime(join(root, 'client')), newestMtime(join(root, 'shared')), statSync(join(root, 'vite.config.ts')).mtimeMs)
  return sources > built
}

export async function buildClient(root: string): Promise<void> {
  // vite is a build tool: imported only when a build is needed
  const { build } = await import('vite')
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' })
}
