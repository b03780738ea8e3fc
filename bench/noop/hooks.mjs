// BENCHMARK ONLY. A module resolution hook that serves bench/noop/engine.ts wherever
// server/wiring/engine.ts is imported, so the gateway-ceiling stage runs the real server with a
// no-op model. Plain JavaScript: it is loaded before tsx can compile TypeScript.
const REAL = '/server/wiring/engine.ts'
const DOUBLE = new URL('./engine.ts', import.meta.url).href

export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context)
  return r.url.endsWith(REAL) ? { ...r, url: DOUBLE } : r
}
