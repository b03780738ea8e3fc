/**
 * The uWebSockets.js rules, kept in one helper (uWS docs/index.d.ts, examples/Backpressure.js):
 *  - register onAborted before anything else, or an aborted request crashes the process;
 *  - copy everything out of `req` synchronously: it is invalid after the handler returns/awaits;
 *  - onData chunks are only valid inside the callback: copy them;
 *  - cork every write made after an await;
 *  - never touch `res` after it was aborted or ended;
 *  - a streamed body (`adaptStreaming`) pauses the socket while the handler is behind and
 *    resumes it as the handler catches up; a reply written before the body ended closes the
 *    connection, so the rest of the body is never parsed as the next request.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import type { Access, BodyStream, Reply, RequestContext, Route } from '../api/types.ts'
import { ANONYMOUS, type Principal } from '../auth/principal.ts'
import { HttpError } from '../errors.ts'
import { writeStream } from './stream-reply.ts'
import { httpErrorOf } from '../api/statuses.ts'

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 206: 'Partial Content', 304: 'Not Modified', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone',
  412: 'Precondition Failed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
  423: 'Locked', 429: 'Too Many Requests', 460: 'Checksum Mismatch', 500: 'Internal Server Error', 503: 'Service Unavailable',
  507: 'Insufficient Storage',
}

export const statusLine = (status: number) => `${status} ${STATUS_TEXT[status] ?? 'Status'}`

export interface HttpAdapterOptions {
  /** Resolves the caller from headers; throws HttpError(401/403) when access is denied. */
  authenticate(headers: Readonly<Record<string, string>>, query: URLSearchParams, access: Access, address: string): Promise<Principal> | Principal
  /** Headers added to every reply (CORS, security headers); `secure`: the request came over HTTPS. */
  commonHeaders(requestHeaders: Readonly<Record<string, string>>, secure: boolean): Record<string, string>
  /** This adapter serves the HTTPS port. */
  secure?: boolean
  onError(err: unknown, ctx: { method: string; path: string }): void
  /** Every reply written, by route pattern (not path: the label set stays bounded). */
  onReply?(route: string, status: number): void
}

interface Copied {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string>
  params: Record<string, string>
  remoteAddress: string
}

function copyRequest(res: HttpResponse, req: HttpRequest, paramNames: string[]): Copied {
  const headers: Record<string, string> = {}
  req.forEach((k, v) => {
    headers[k] = v
  })
  const params: Record<string, string> = {}
  paramNames.forEach((name, i) => {
    const raw = req.getParameter(i) ?? ''
    // a malformed escape (`%E0%A4%A`) must not throw inside the uWS callback: the raw text is
    // kept and fails the handler's id check like any other bad id
    try {
      params[name] = decodeURIComponent(raw)
    } catch {
      params[name] = raw
    }
  })
  return {
    method: req.getMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    params,
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
  }
}

/**
 * A refused body up to this size is read and thrown away before the 413 goes out, so that an
 * ordinary client that sends its whole body before reading the answer (fetch, most HTTP libraries)
 * sees the 413 instead of a broken pipe: nginx's "lingering close". Beyond it the connection is
 * closed at once, so a hostile client cannot keep the server reading.
 */
const DISCARD_LIMIT = 16 * 1024 * 1024

/** Reads the body up to `limit` bytes; rejects with 413 beyond it, without buffering more. */
function readBody(res: HttpResponse, limit: number, declared: number | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit + DISCARD_LIMIT) {
      reject(new HttpError(413, 'too_large', `body of ${declared} bytes exceeds the limit of ${limit}`))
      return
    }
    const tooLarge = () => new HttpError(413, 'too_large', `body${declared !== undefined ? ` of ${declared} bytes` : ''} exceeds the limit of ${limit} bytes`)
    // Preallocate when the client declared its length: one buffer, no concatenation.
    let buf = new Uint8Array(declared !== undefined && declared <= limit ? declared : Math.min(limit, 64 * 1024))
    let size = 0
    let discarded = declared !== undefined && declared > limit ? 0 : -1 // >= 0: refusing, reading to the end
    let settled = false
    res.onData((chunk, isLast) => {
      if (settled) return
      if (discarded >= 0) {
        discarded += chunk.byteLength
        if (isLast || discarded > DISCARD_LIMIT) {
          settled = true
          reject(tooLarge())
        }
        return
      }
      const bytes = new Uint8Array(chunk) // only valid inside this callback: copied below
      if (size + bytes.length > limit) {
        discarded = size + bytes.length
        buf = new Uint8Array(0)
        if (isLast) {
          settled = true
          reject(tooLarge())
        }
        return
      }
      if (size + bytes.length > buf.length) {
        const bigger = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, size + bytes.length)))
        bigger.set(buf.subarray(0, size))
        buf = bigger
      }
      buf.set(bytes, size)
      size += bytes.length
      if (isLast) {
        settled = true
        resolve(size === buf.length ? buf : buf.subarray(0, size))
      }
    })
  })
}

/** True for the errors that are answers (4xx, a known 5xx), not faults to log. */
export function isExpected(err: unknown): boolean {
  return httpErrorOf(err) !== undefined
}

export function errorReply(err: unknown): Reply {
  const http = httpErrorOf(err)
  if (http) {
    return {
      status: http.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...http.headers },
      body: JSON.stringify({ error: { code: http.code, message: http.message } }),
    }
  }
  return {
    status: 500,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }),
  }
}

export function writeReply(res: HttpResponse, reply: Reply, extra: Record<string, string>, opts: { close?: boolean } = {}): void {
  res.cork(() => {
    res.writeStatus(statusLine(reply.status))
    for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v)
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v)
    // after a 413 the client may still be sending (beyond DISCARD_LIMIT): close rather than read on
    const close = reply.status === 413 || opts.close === true
    if (reply.body === undefined) res.end(undefined, close)
    else res.end(reply.body, close)
  })
}

/** A reply to HEAD has headers only: a body would be read as the start of the next response. */
const withoutBodyForHead = (method: string, reply: Reply): Reply => (method === 'HEAD' && reply.body !== undefined ? { status: reply.status, headers: reply.headers ?? {} } : reply)

/** Wraps a transport-free route handler into a uWebSockets.js handler. */
export function adapt(route: Route, opts: HttpAdapterOptions): (res: HttpResponse, req: HttpRequest) => void {
  if (route.streamBody) return adaptStreaming(route, opts)
  const paramNames = paramNamesOf(route)
  return (res, req) => {
    const abort = new AbortController()
    let done = false
    res.onAborted(() => {
      done = true
      abort.abort()
    })
    const r = copyRequest(res, req, paramNames) // You MUST copy data out of req here
    const common = opts.commonHeaders(r.headers, opts.secure === true)
    const declaredRaw = r.headers['content-length']
    const declared = declaredRaw !== undefined && /^\d+$/.test(declaredRaw) ? Number(declaredRaw) : undefined
    const limit = route.bodyLimit ?? 0
    const body = limit > 0 ? readBody(res, limit, declared) : Promise.resolve(new Uint8Array(0))
    // a body we do not read must not leave the promise unhandled when the handler fails first
    body.catch(() => undefined)

    const run = async (): Promise<Reply> => {
      const principal = await opts.authenticate(r.headers, r.query, route.access, r.remoteAddress)
      const ctx: RequestContext = { ...r, secure: opts.secure === true, body: await body, principal, signal: abort.signal }
      return route.handler(ctx)
    }
    run()
      .catch((err: unknown) => {
        if (!isExpected(err)) opts.onError(err, { method: r.method, path: r.path })
        return errorReply(err)
      })
      .then(async (reply) => {
        if (done) return
        done = true
        const { stream } = reply
        if (stream && r.method !== 'HEAD') {
          opts.onReply?.(route.pattern, reply.status)
          return writeStream(res, { ...reply, stream }, common, abort.signal)
        }
        // an error before the body was read: uWS must not keep reading into a finished request
        writeReply(res, withoutBodyForHead(r.method, reply), common)
        opts.onReply?.(route.pattern, reply.status)
      })
      .catch((err: unknown) => opts.onError(err, { method: r.method, path: r.path }))
  }
}

const paramNamesOf = (route: Route) => [...route.pattern.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)

/**
 * Unread bytes above this pause the socket; it resumes once they are down to LOW_WATER. Large
 * enough that the socket keeps receiving while the handler writes to disk (per request memory).
 */
const HIGH_WATER = 4 * 1024 * 1024
const LOW_WATER = 1024 * 1024
/**
 * What arrives is copied into slabs this big, so the handler reads large chunks (one large disk
 * write beats many small ones) without a second copy to join them.
 */
const SLAB = 1024 * 1024

/** The body of one request as it arrives from uWS; see `BodyStream`. */
class SocketBody implements BodyStream {
  /** Views handed over in order; never written again once here. */
  readonly #ready: Uint8Array[] = []
  #slab: Buffer | undefined
  /** The part of the slab filled but not yet handed over. */
  #from = 0
  #to = 0
  #buffered = 0
  #paused = false
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  constructor(
    readonly declaredLength: number | undefined,
    private readonly flow: { pause(): void; resume(): void },
  ) {}

  get ended(): boolean {
    return this.#ended
  }

  /** Copies a uWS chunk, which is only valid inside its callback. */
  copyIn(chunk: ArrayBuffer): void {
    let src = new Uint8Array(chunk)
    this.#buffered += src.length
    while (src.length > 0) {
      if (!this.#slab || this.#to === this.#slab.length) {
        this.#seal()
        this.#slab = Buffer.allocUnsafe(SLAB)
        this.#from = this.#to = 0
      }
      const n = Math.min(src.length, this.#slab.length - this.#to)
      this.#slab.set(src.subarray(0, n), this.#to)
      this.#to += n
      src = src.subarray(n)
    }
    if (!this.#paused && this.#buffered >= HIGH_WATER) {
      this.#paused = true
      this.flow.pause()
    }
    this.#notify()
  }

  end(): void {
    this.#ended = true
    this.#notify()
  }

  /** The client went away: what arrived is still read, then iteration throws `err`. */
  fail(err: Error): void {
    this.#error = err
    this.#notify()
  }

  /** Hands over the filled part of the slab; later bytes go after it, never over it. */
  #seal(): void {
    if (this.#slab && this.#to > this.#from) {
      this.#ready.push(this.#slab.subarray(this.#from, this.#to))
      this.#from = this.#to
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (!this.#ready.length) this.#seal()
      const chunk = this.#ready.shift()
      if (chunk) {
        this.#buffered -= chunk.length
        if (this.#paused && this.#buffered <= LOW_WATER) {
          this.#paused = false
          this.flow.resume()
        }
        yield chunk
        continue
      }
      if (this.#error) throw this.#error
      if (this.#ended) return
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }
}

/** The client closed the connection before the body ended. */
export class ClientGone extends Error {
  override name = 'ClientGone'
}

/**
 * Like `adapt`, for routes with `streamBody`: the handler reads `ctx.bodyStream` while it arrives
 * instead of a buffered `ctx.body`.
 */
export function adaptStreaming(route: Route, opts: HttpAdapterOptions): (res: HttpResponse, req: HttpRequest) => void {
  const paramNames = paramNamesOf(route)
  return (res, req) => {
    const abort = new AbortController()
    let done = false
    // eslint-disable-next-line prefer-const -- onAborted may fire before the stream exists
    let body: SocketBody | undefined
    res.onAborted(() => {
      done = true
      abort.abort()
      body?.fail(new ClientGone('the client went away before the body ended'))
    })
    const r = copyRequest(res, req, paramNames) // You MUST copy data out of req here
    const common = opts.commonHeaders(r.headers, opts.secure === true)
    const declaredRaw = r.headers['content-length']
    const declared = declaredRaw !== undefined && /^\d+$/.test(declaredRaw) ? Number(declaredRaw) : undefined
    const stream = new SocketBody(declared, {
      pause: () => {
        if (!done) res.pause()
      },
      resume: () => {
        if (!done) res.resume()
      },
    })
    body = stream
    // registered before returning, or uWS drops what arrives while we authenticate
    res.onData((chunk, isLast) => {
      if (done) return
      if (chunk.byteLength > 0) stream.copyIn(chunk)
      if (isLast) stream.end()
    })

    const run = async (): Promise<Reply> => {
      const principal = await opts.authenticate(r.headers, r.query, route.access, r.remoteAddress)
      const ctx: RequestContext = { ...r, secure: opts.secure === true, body: new Uint8Array(0), bodyStream: stream, principal, signal: abort.signal }
      return route.handler(ctx)
    }
    run()
      .catch((err: unknown) => {
        if (!isExpected(err) && !(err instanceof ClientGone)) opts.onError(err, { method: r.method, path: r.path })
        return errorReply(err)
      })
      .then((reply) => {
        if (done) return
        done = true
        writeReply(res, withoutBodyForHead(r.method, reply), common, { close: !stream.ended })
        opts.onReply?.(route.pattern, reply.status)
      })
      .catch((err: unknown) => opts.onError(err, { method: r.method, path: r.path }))
  }
}

export { ANONYMOUS }
