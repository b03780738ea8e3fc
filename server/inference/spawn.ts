/**
 * Starting a TypeScript worker thread.
 *
 * `new Worker(new URL('./worker.ts', import.meta.url))` does NOT work under `tsx` on Node 20:
 * tsx's loader (`--import tsx/dist/loader.mjs`, inherited through execArgv) registers its hooks on
 * the main thread only (it checks `isMainThread` where Node lacks `isInternalThread`), so the
 * worker fails with `Unknown file extension ".ts"`. Under vitest there is no tsx at all. So the
 * worker starts from a two-line bootstrap that registers tsx's loader inside the thread, then
 * imports the entry: the same path under `tsx`, `node --import tsx`, and vitest.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** tsx's loader flags, which would register a second copy of the hooks on Node versions that honour them in workers. */
function withoutTsxLoader(execArgv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!
    if ((arg === '--import' || arg === '--require' || arg === '--loader') && /[\\/]tsx[\\/]/.test(execArgv[i + 1] ?? '')) {
      i++
      continue
    }
    if (/^--(import|require|loader)=.*[\\/]tsx[\\/]/.test(arg)) continue
    out.push(arg)
  }
  return out
}

export function spawnTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  // The ESM build: tsx's CommonJS `register` resolves its own files wrongly when loaded this way.
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(boot, { execArgv: withoutTsxLoader(process.execArgv), ...options, eval: true })
}
