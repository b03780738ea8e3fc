/**
 * Assembles planar.wat into planar.wasm with wabt (the WebAssembly project's own toolkit):
 * `npm run wasm:build`. The binary is committed, so the server needs no toolkit at run time;
 * pixels.test.ts assembles the source again and fails when the committed binary is not its build.
 * wabt is a devDependency, imported lazily: nothing at run time imports this file.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const WAT_FILE = fileURLToPath(new URL('./planar.wat', import.meta.url))
export const WASM_FILE = fileURLToPath(new URL('./planar.wasm', import.meta.url))

export async function assemble(): Promise<Uint8Array> {
  const { default: wabt } = await import('wabt')
  const w = await wabt()
  const module = w.parseWat('planar.wat', readFileSync(WAT_FILE, 'utf8'), { simd: true })
  try {
    module.validate()
    return module.toBinary({}).buffer
  } finally {
    module.destroy()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemble()
  writeFileSync(WASM_FILE, bytes)
  console.log(`${WASM_FILE}: ${bytes.length} bytes`)
}
