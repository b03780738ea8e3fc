/**
 * Serves the built PWA (dist/client) with an SPA fallback: any GET that is not a file and not an
 * API path gets index.html, so deep links like /station?line=L1 work after a reload.
 * Hashed assets are immutable; index.html and the service worker must always be revalidated.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { CompressedCopies, encodedReply, type CopiesOptions } from './compressed.ts'
import type { Reply, RequestContext } from './types.ts'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

export const contentType = (file: string) => TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'

interface Cached {
  body: Uint8Array
  etag: string
  mtimeMs: number
}

export class StaticFiles {
  readonly #cache = new Map<string, Cached>()
  readonly #copies: CompressedCopies
  constructor(
    readonly root: string,
    copies: CopiesOptions = {},
  ) {
    this.#copies = new CompressedCopies(copies)
  }

  async #load(file: string): Promise<Cached | null> {
    let st
    try {
      st = await stat(file)
    } catch {
      return null
    }
    if (!st.isFile()) return null
    const hit = this.#cache.get(file)
    if (hit && hit.mtimeMs === st.mtimeMs) return hit
    const body = await readFile(file)
    const entry = { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"`, mtimeMs: st.mtimeMs }
    this.#cache.set(file, entry)
    return entry
  }

  /** Resolves a URL path inside the root; null when it would escape it. */
  resolve(urlPath: string): string | null {
    let decoded: string
    try {
      decoded = decodeURIComponent(urlPath)
    } catch {
      return null
    }
    if (decoded.includes('\0')) return null
    const file = normalize(join(this.root, decoded))
    return file === this.root || file.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep) ? file : null
  }

  async serve(ctx: Pick<RequestContext, 'path' | 'headers'>): Promise<Reply> {
    const file = this.resolve(ctx.path === '/' ? '/index.html' : ctx.path)
    let entry = file ? await this.#load(file) : null
    let served = file ?? ''
    const looksLikeFile = extname(ctx.path) !== ''
    if (!entry && !looksLikeFile) {
      served = join(this.root, 'index.html')
      entry = await this.#load(served)
    }
    if (!entry) {
      return { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'not_found', message: `no such file: ${ctx.path.slice(0, 200)}` } }) }
    }
    const immutable = served.includes(`${sep}assets${sep}`)
    const type = contentType(served)
    const coded = encodedReply(this.#copies, served, type, entry.etag, entry.body, ctx.headers['accept-encoding'])
    const headers: Record<string, string> = {
      'content-type': type,
      ...coded.headers,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    }
    if (ctx.headers['if-none-match'] === headers.etag) {
      delete headers['content-encoding']
      return { status: 304, headers }
    }
    return { status: 200, headers, body: coded.body }
  }
}
