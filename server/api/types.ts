/**
 * Transport-free HTTP: a route handler takes a `RequestContext` (everything already copied out of
 * the socket) and returns a `Reply`. server/gateway/http.ts adapts uWebSockets.js to this; tests
 * can call handlers directly without opening a port.
 */
import type { Principal } from '../auth/principal.ts'

export interface RequestContext {
  method: string
  path: string
  params: Record<string, string>
  query: URLSearchParams
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>
  /** The request body, when the route reads one. */
  body: Uint8Array
  remoteAddress: string
  /** The request came over HTTPS (cookies get `Secure`). */
  secure?: boolean
  principal: Principal
  /** Set when the client went away; long handlers may check it. */
  signal: AbortSignal
  /** The body as it arrives, on routes with `streamBody` (then `body` is empty). */
  bodyStream?: BodyStream
}

/**
 * A request body read chunk by chunk (tus PATCH: never a whole upload in memory). Each chunk is
 * the handler's to keep. The transport stops reading from the socket while chunks wait unread
 * and goes on as the handler takes them, so a slow disk slows the client instead of filling
 * memory. Iteration throws once the client went away.
 */
export interface BodyStream extends AsyncIterable<Uint8Array> {
  /** Content-Length, when the client declared one. */
  readonly declaredLength: number | undefined
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: string | Uint8Array
  /**
   * A body produced while it is sent (chunked), instead of `body`; pulled only as fast as the
   * client reads (server/gateway/stream-reply.ts).
   */
  stream?: AsyncIterable<Uint8Array>
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply

/** `metrics`: a metrics or admin token (Prometheus scrapes). */
export type Access = 'public' | 'read' | 'station' | 'admin' | 'metrics'

export interface Route {
  method: 'get' | 'post' | 'put' | 'del' | 'patch' | 'head' | 'options' | 'any'
  /** uWebSockets.js pattern, e.g. `/api/v1/results/:frameId`. */
  pattern: string
  /** Largest body read, bytes; 0 reads none. */
  bodyLimit?: number
  /** Hand the body to the handler as `ctx.bodyStream` instead of buffering it (`bodyLimit` is then ignored). */
  streamBody?: boolean
  access: Access
  handler: Handler
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) }
}

export const ok = (value: unknown) => json(200, value)
