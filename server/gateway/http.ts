/**
 * The uWebSockets.js rules, kept in one helper (uWS docs/index.d.ts, examples/Backpressure.js):
 *  - register onAborted before anything else, or an aborted request crashes the process;
 *  - copy everything out of `req` synchronously: it is invalid after the handler returns/awaits;
 *  - onData chunks are only valid inside the callback: copy them;
 *  - cork every write made after an await;
 *  - never touch `res` after it was aborted or ended.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import type { Access, Reply, RequestContext, Route } from '../api/types.ts'
import { ANONYMOUS, type Principal } from '../auth/principal.ts'
import { HttpError } from '../errors.ts'

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 206: 'Partial Content', 304: 'Not Modified', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone',
  412: 'Precondition Failed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 460: 'Checksum Mismatch', 500: 'Internal Server Error', 503: 'Service Unavailable',
}

export const statusLine = (status: number) => `${status} ${STATUS_TEXT[status] ?? 'Status'}`

export interface HttpAdapterOptions {
  /** Resolves the caller from headers; throws HttpError(401/403) when access is denied. */
  authenticate(headers: Readonly<Record<string, string>>, query: URLSearchParams, access: Access): Promise<Principal> | Principal
  /** Headers added to every reply (CORS, security headers). */
  commonHeaders(requestHeaders: Readonly<Record<string, string>>): Record<string, string>
  onError(err: unknown, ctx: { method: string; path: string }): void
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
    params[name] = decodeURIComponent(req.getParameter(i) ?? '')
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

/** Reads the body up to `limit` bytes; rejects with 413 beyond it, without buffering more. */
function readBody(res: HttpResponse, limit: number, declared: number | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit) {
      reject(new HttpError(413, 'too_large', `body of ${declared} bytes exceeds the limit of ${limit}`))
      return
    }
    // Preallocate when the client declared its length: one buffer, no concatenation.
    let buf = new Uint8Array(declared ?? Math.min(limit, 64 * 1024))
    let size = 0
    let failed = false
    res.onData((chunk, isLast) => {
      if (failed) return
      const bytes = new Uint8Array(chunk) // only valid inside this callback: copied below
      if (size + bytes.length > limit) {
        failed = true
        reject(new HttpError(413, 'too_large', `body exceeds the limit of ${limit} bytes`))
        return
      }
      if (size + bytes.length > buf.length) {
        const bigger = new Uint8Array(Math.min(limit, Math.max(buf.length * 2, size + bytes.length)))
        bigger.set(buf.subarray(0, size))
        buf = bigger
      }
      buf.set(bytes, size)
      size += bytes.length
      if (isLast) resolve(size === buf.length ? buf : buf.subarray(0, size))
    })
  })
}

export function errorReply(err: unknown): Reply {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...err.headers },
      body: JSON.stringify({ error: { code: err.code, message: err.message } }),
    }
  }
  return {
    status: 500,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }),
  }
}

export function writeReply(res: HttpResponse, reply: Reply, extra: Record<string, string>): void {
  res.cork(() => {
    res.writeStatus(statusLine(reply.status))
    for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v)
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v)
    // after a 413 the client may still be sending: close rather than read what we refused
    const close = reply.status === 413
    if (reply.body === undefined) res.end(undefined, close)
    else res.end(reply.body, close)
  })
}

/** Wraps a transport-free route handler into a uWebSockets.js handler. */
export function adapt(route: Route, opts: HttpAdapterOptions): (res: HttpResponse, req: HttpRequest) => void {
  const paramNames = [...route.pattern.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!)
  return (res, req) => {
    const abort = new AbortController()
    let done = false
    res.onAborted(() => {
      done = true
      abort.abort()
    })
    const r = copyRequest(res, req, paramNames) // You MUST copy data out of req here
    const common = opts.commonHeaders(r.headers)
    const declaredRaw = r.headers['content-length']
    const declared = declaredRaw !== undefined && /^\d+$/.test(declaredRaw) ? Number(declaredRaw) : undefined
    const limit = route.bodyLimit ?? 0
    const body = limit > 0 ? readBody(res, limit, declared) : Promise.resolve(new Uint8Array(0))
    // a body we do not read must not leave the promise unhandled when the handler fails first
    body.catch(() => undefined)

    const run = async (): Promise<Reply> => {
      const principal = await opts.authenticate(r.headers, r.query, route.access)
      const ctx: RequestContext = { ...r, body: await body, principal, signal: abort.signal }
      return route.handler(ctx)
    }
    run()
      .catch((err: unknown) => {
        if (!(err instanceof HttpError)) opts.onError(err, { method: r.method, path: r.path })
        return errorReply(err)
      })
      .then((reply) => {
        if (done) return
        done = true
        // an error before the body was read: uWS must not keep reading into a finished request
        writeReply(res, reply, common)
      })
      .catch((err: unknown) => opts.onError(err, { method: r.method, path: r.path }))
  }
}

export { ANONYMOUS }
