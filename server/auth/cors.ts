/**
 * CORS preflight. CORS is closed unless CORS_ORIGINS names the calling origin; the headers that
 * open it on every reply come from `corsHeaders`, the gateway's common headers. A preflight
 * carries no credentials, so these routes are public; the real request is checked as usual.
 */
import type { Config } from '../config/index.ts'
import { json, type Reply, type Route } from '../api/types.ts'

/** How long a browser may reuse a preflight answer, seconds. */
const MAX_AGE_S = 600

export function isPreflight(headers: Readonly<Record<string, string>>): boolean {
  return headers.origin !== undefined && headers['access-control-request-method'] !== undefined
}

export function originAllowed(allowed: readonly string[], origin: string): boolean {
  return allowed.includes('*') || allowed.includes(origin)
}

/** 204 for an allowed origin (or a plain OPTIONS), 403 with a JSON reason for any other origin. */
export function preflightReply(allowed: readonly string[], headers: Readonly<Record<string, string>>): Reply {
  const origin = headers.origin
  if (origin === undefined) return { status: 204, headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' } }
  if (!originAllowed(allowed, origin)) {
    return json(403, { error: { code: 'cors_refused', message: `origin ${origin.slice(0, 200)} is not in CORS_ORIGINS` } })
  }
  return { status: 204, headers: { 'access-control-max-age': String(MAX_AGE_S) } }
}

/** OPTIONS anywhere; `/api/*` needs its own pattern, or the API's catch-all 404 would answer it. */
export function preflightRoutes(config: Pick<Config, 'corsOrigins'>): Route[] {
  const handler: Route['handler'] = (ctx) => preflightReply(config.corsOrigins, ctx.headers)
  return [
    { method: 'options', pattern: '/api/*', access: 'public', handler },
    { method: 'options', pattern: '/*', access: 'public', handler },
  ]
}

/** The headers every reply carries: CORS ones only for an origin CORS_ORIGINS names. */
export function corsHeaders(allowed: readonly string[], origin: string | undefined): Record<string, string> {
  if (!origin || !originAllowed(allowed, origin)) return {}
  return {
    'access-control-allow-origin': allowed.includes('*') ? '*' : origin,
    'access-control-allow-headers': 'authorization, content-type, tus-resumable, upload-length, upload-offset, upload-metadata, upload-checksum',
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
    vary: 'origin',
  }
}
