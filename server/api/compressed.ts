/**
 * Compressed copies of the files a station loads once and keeps (the app shell, the
 * onnxruntime-web WASM, the model files): a tablet on Wi-Fi fetches 26.8 MB of WASM uncompressed
 * and about 6.7 MB gzipped. Each body is compressed once, in the background on libuv's pool (a
 * 27 MB brotli takes seconds of CPU and must not hold a request); until its copy is ready a file
 * goes out as it is. `Vary: Accept-Encoding` goes on every reply of a compressible type so a shared
 * cache never hands brotli to a client that did not ask for it, and each coding has its own ETag.
 */
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'

export type Coding = 'br' | 'gzip'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

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

export class CompressedCopies {
  /** By ETag: a changed file has a new one, and its old copies are dropped with it. */
  readonly #byEtag = new Map<string, Variants>()
  readonly #keyOf = new Map<string, string>()

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
      void this.#compress(body).then(
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

  async #compress(body: Uint8Array): Promise<{ br: Uint8Array; gzip: Uint8Array }> {
    const [br, gzip] = await Promise.all([
      brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      gz(body, { level: 9 }),
    ])
    return { br: new Uint8Array(br.buffer, br.byteOffset, br.byteLength), gzip: new Uint8Array(gzip.buffer, gzip.byteOffset, gzip.byteLength) }
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
