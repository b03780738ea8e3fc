/**
 * Compressed copies of the files a station loads once and keeps (the app shell, the
 * onnxruntime-web WASM, the model files): a tablet on Wi-Fi fetches 26.8 MB of WASM uncompressed
 * and about 6.7 MB gzipped. Each body is compressed once, in the background on a thread of its
 * own: a 27 MB brotli takes tens of CPU seconds on these cores, which must hold neither a request,
 * nor libuv's pool (sharp decodes frames there), nor the process's exit (the thread is unref'd).
 * Until its copy is ready a file goes out as it is. `Vary: Accept-Encoding` goes on every reply of a compressible type so a shared
 * cache never hands brotli to a client that did not ask for it, and each coding has its own ETag.
 * With a folder (`<LINESIGHT_DATA_DIR>/compressed`), the copies are kept there by ETag, so a
 * restarted server serves them at once instead of compressing the 27 MB WASM again.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EvalThread, type ThreadReply } from '../eval-thread.ts'

export type Coding = 'br' | 'gzip'

/**
 * Brotli 11 for the app shell's small files; a body over LARGE_BYTES (the WASM) gets quality 5,
 * as quality 9 took a minute of CPU on the 26.8 MB WASM here (4.69 MB; quality 6: 4.85 MB in
 * 29 s; gzip 6: 6.67 MB in 4.5 s, on 2 shared cores under load).
 */
const LARGE_BYTES = 4 << 20

const THREAD = `
const { parentPort } = require('node:worker_threads')
const { brotliCompressSync, gzipSync, constants } = require('node:zlib')
parentPort.on('message', ({ id, body, large }) => {
  try {
    const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: large ? 5 : 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
    const gzip = gzipSync(body, { level: large ? 6 : 9 })
    parentPort.postMessage({ id, br, gzip })
  } catch (e) {
    parentPort.postMessage({ id, error: { message: String((e && e.message) || e) } })
  }
})
`

/** Types worth compressing; images and fonts are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|wasm|manifest\+json|octet-stream)|image\/svg\+xml)/

export function compressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType)
}

/** The best coding the client accepts (q > 0), brotli first. */
export function pickCoding(acceptEncoding: string | undefined): Coding | undefined {
  if (!acceptEncoding) return undefined
  const accepted = new Map<string, number>()
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    accepted.set(name!.trim(), q ? Number(q.slice(2)) : 1)
  }
  const ok = (c: string) => (accepted.get(c) ?? accepted.get('*') ?? 0) > 0
  if (ok('br')) return 'br'
  if (ok('gzip')) return 'gzip'
  return undefined
}

interface Variants {
  br?: Uint8Array
  gzip?: Uint8Array
  started: boolean
}

interface Compressed extends ThreadReply {
  br?: Uint8Array
  gzip?: Uint8Array
}

/** One thread for every compression of the process, started at the first. */
const thread = new EvalThread<Compressed>(THREAD, { name: 'the compression thread' })

async function compressOffThread(body: Uint8Array): Promise<{ br: Uint8Array; gzip: Uint8Array }> {
  const r = await thread.request({ body, large: body.length > LARGE_BYTES })
  if (!r.br || !r.gzip) throw new Error('compression failed')
  return { br: r.br, gzip: r.gzip }
}

export interface CopiesOptions {
  /** Where the copies outlive the process, named by ETag; none: in memory only. */
  dir?: string
  /** The folder's bound in bytes (default 256 MiB): past it the oldest copies are removed. */
  maxBytes?: number
}

/** A file name for an ETag: its own characters when they are safe, else their hash. */
function fileNameOf(etag: string): string {
  const bare = etag.replace(/^W\//, '').replace(/"/g, '')
  return /^[A-Za-z0-9_-]{1,128}$/.test(bare) ? bare : createHash('sha256').update(etag).digest('hex')
}

/** Both copies from the folder, or undefined when either is missing or unreadable. */
async function readCopies(dir: string, name: string): Promise<{ br: Uint8Array; gzip: Uint8Array } | undefined> {
  try {
    const [br, gzip] = await Promise.all([readFile(join(dir, `${name}.br`)), readFile(join(dir, `${name}.gz`))])
    return { br, gzip }
  } catch {
    return undefined
  }
}

/** Writes both copies (each to a temporary name, then renamed: never a half-written copy), then keeps the folder under its bound. */
async function writeCopies(dir: string, name: string, copies: { br: Uint8Array; gzip: Uint8Array }, maxBytes: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const [ext, body] of [['gz', copies.gzip], ['br', copies.br]] as const) {
    const tmp = join(dir, `.${name}.${ext}.${process.pid}.tmp`)
    await writeFile(tmp, body)
    await rename(tmp, join(dir, `${name}.${ext}`))
  }
  // a file's two copies go together: one without the other is compressed again anyway
  const byName = new Map<string, { size: number; mtimeMs: number; files: string[] }>()
  for (const f of (await readdir(dir)).filter((f) => /\.(br|gz)$/.test(f) && !f.startsWith('.'))) {
    const st = await stat(join(dir, f)).catch(() => null)
    if (!st) continue
    const g = byName.get(f.slice(0, -3)) ?? { size: 0, mtimeMs: 0, files: [] }
    g.size += st.size
    g.mtimeMs = Math.max(g.mtimeMs, st.mtimeMs)
    g.files.push(f)
    byName.set(f.slice(0, -3), g)
  }
  let total = [...byName.values()].reduce((a, g) => a + g.size, 0)
  for (const g of [...byName.values()].sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    if (total <= maxBytes) break
    for (const f of g.files) await unlink(join(dir, f)).catch(() => undefined)
    total -= g.size
  }
}

export class CompressedCopies {
  /** By ETag: a changed file has a new one, and its old copies are dropped with it. */
  readonly #byEtag = new Map<string, Variants>()
  readonly #keyOf = new Map<string, string>()

  constructor(private readonly options: CopiesOptions = {}) {}

  /** From the folder if an earlier process made them, else compressed now (and kept there). */
  async #make(etag: string, body: Uint8Array): Promise<{ br: Uint8Array; gzip: Uint8Array }> {
    const { dir, maxBytes = 256 << 20 } = this.options
    const name = fileNameOf(etag)
    const kept = dir ? await readCopies(dir, name) : undefined
    if (kept) return kept
    const made = await compressOffThread(body)
    // a folder that cannot be written (a full disk) costs the next start a compression, nothing more
    if (dir) await writeCopies(dir, name, made, maxBytes).catch(() => undefined)
    return made
  }

  /**
   * The copy of `body` in `coding` if it is ready; otherwise starts making both copies (once)
   * and returns undefined. `key` names the file, so a replaced file's copies are released.
   */
  get(key: string, etag: string, body: Uint8Array, coding: Coding): Uint8Array | undefined {
    let v = this.#byEtag.get(etag)
    if (!v) {
      const old = this.#keyOf.get(key)
      if (old !== undefined) this.#byEtag.delete(old)
      this.#keyOf.set(key, etag)
      v = { started: false }
      this.#byEtag.set(etag, v)
    }
    if (v[coding]) return v[coding]
    if (!v.started) {
      v.started = true
      const variants = v
      void this.#make(etag, body).then(
        ({ br, gzip }) => {
          // a copy that is no smaller is not worth a coding
          if (br.length < body.length) variants.br = br
          if (gzip.length < body.length) variants.gzip = gzip
        },
        () => undefined, // a failed compression leaves the file served as it is
      )
    }
    return undefined
  }
}

/**
 * Headers and body for a reply of `body`: the compressed copy when the client takes one and it is
 * ready. `etag` is the identity's (quoted); a coded reply's ETag names its coding.
 */
export function encodedReply(
  copies: CompressedCopies,
  key: string,
  contentType: string,
  etag: string,
  body: Uint8Array,
  acceptEncoding: string | undefined,
): { headers: Record<string, string>; body: Uint8Array } {
  if (!compressible(contentType)) return { headers: { etag }, body }
  const coding = pickCoding(acceptEncoding)
  const copy = coding ? copies.get(key, etag, body, coding) : undefined
  if (!coding || !copy) return { headers: { etag, vary: 'accept-encoding' }, body }
  return { headers: { etag: `${etag.slice(0, -1)}-${coding}"`, vary: 'accept-encoding', 'content-encoding': coding }, body: copy }
}
