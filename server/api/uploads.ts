/**
 * tus 1.0 at /api/v1/uploads (https://tus.io/protocols/resumable-upload): core (HEAD, PATCH),
 * creation, expiration, checksum (sha256) and termination, so stock tus clients (tus-js-client
 * in a browser or in Node) work unchanged. The protocol is mapped here; the uploads themselves
 * live in server/uploads/. A finished upload becomes the job of the same id (/api/v1/jobs/:id).
 */
import { isPreflight, preflightReply } from '../auth/cors.ts'
import type { Core } from '../core.ts'
import { HttpError } from '../errors.ts'
import {
  checkTusResumable,
  httpDate,
  parseChecksum,
  parseCount,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXPOSED_HEADERS,
  TUS_EXTENSIONS,
  TUS_VERSION,
} from '../uploads/tus-headers.ts'
import type { Upload, Uploads } from '../uploads/index.ts'
import { json, type Handler, type Reply, type Route } from './types.ts'

const TUS_HEADERS = { 'tus-resumable': TUS_VERSION, 'access-control-expose-headers': TUS_EXPOSED_HEADERS }
const BASE = '/api/v1/uploads'

/** Every tus reply, errors included, says which protocol version it speaks. */
function tus(handler: Handler): Handler {
  return async (ctx) => {
    try {
      const reply = await handler(ctx)
      return { ...reply, headers: { ...TUS_HEADERS, ...reply.headers } }
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(err.status, err.code, err.message, { cause: err, headers: { ...TUS_HEADERS, ...err.headers } })
      throw err
    }
  }
}

export function uploadRoutes(core: Core): Route[] {
  const uploads = (): Uploads => {
    if (!core.uploads) throw new HttpError(503, 'no_uploads', 'uploads are not available in this process')
    return core.uploads
  }
  const expires = (up: Upload): Record<string, string> => (up.info.state === 'receiving' ? { 'upload-expires': httpDate(uploads().expiresAt(up)) } : {})

  const options: Handler = tus((ctx): Reply => {
    const cors = isPreflight(ctx.headers) ? preflightReply(core.config.corsOrigins, ctx.headers) : undefined
    if (cors && cors.status !== 204) return cors
    return {
      status: 204,
      headers: {
        ...cors?.headers,
        'tus-version': TUS_VERSION,
        'tus-extension': TUS_EXTENSIONS.join(','),
        'tus-max-size': String(core.config.uploadMaxBytes),
        'tus-checksum-algorithm': TUS_CHECKSUM_ALGORITHMS.join(','),
      },
    }
  })

  return [
    { method: 'options', pattern: BASE, access: 'public', handler: options },
    { method: 'options', pattern: `${BASE}/:id`, access: 'public', handler: options },
    {
      method: 'post',
      pattern: BASE,
      access: 'station',
      handler: tus(async (ctx) => {
        checkTusResumable(ctx.headers)
        if (ctx.headers['upload-defer-length'] !== undefined) throw new HttpError(400, 'unsupported_extension', 'creation-defer-length is not supported: send Upload-Length')
        if (ctx.headers['upload-concat'] !== undefined) throw new HttpError(400, 'unsupported_extension', 'concatenation is not supported (do not use parallelUploads)')
        const declared = ctx.headers['upload-length']
        // a length too long to parse is over the maximum too: 413, as tus says, not 400
        if (declared !== undefined && /^\d+$/.test(declared) && !Number.isSafeInteger(Number(declared))) throw new HttpError(413, 'too_large', `Upload-Length ${declared.slice(0, 30)} exceeds Tus-Max-Size`)
        const length = parseCount(declared, 'Upload-Length')
        const up = await uploads().create(ctx.principal, ctx.remoteAddress, length, ctx.headers['upload-metadata'])
        const location = `${BASE}/${up.info.id}`
        return json(201, { id: up.info.id, location, job: `/api/v1/jobs/${up.info.id}` }, { location, ...expires(up) })
      }),
    },
    {
      method: 'head',
      pattern: `${BASE}/:id`,
      access: 'station',
      handler: tus(async (ctx) => {
        checkTusResumable(ctx.headers)
        const up = await uploads().find(ctx.principal, ctx.params.id ?? '')
        const headers: Record<string, string> = {
          'upload-offset': String(up.info.offset),
          'upload-length': String(up.info.length),
          'cache-control': 'no-store',
          ...expires(up),
        }
        if (up.info.metadata) headers['upload-metadata'] = up.info.metadata
        return { status: 200, headers }
      }),
    },
    {
      method: 'patch',
      pattern: `${BASE}/:id`,
      access: 'station',
      streamBody: true,
      handler: tus(async (ctx) => {
        checkTusResumable(ctx.headers)
        const type = (ctx.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        if (type !== 'application/offset+octet-stream') {
          throw new HttpError(415, 'unsupported_type', `Content-Type must be application/offset+octet-stream, got ${JSON.stringify(type.slice(0, 60) || '(none)')}`)
        }
        const offset = parseCount(ctx.headers['upload-offset'], 'Upload-Offset')
        const checksum = parseChecksum(ctx.headers['upload-checksum'])
        const up = await uploads().find(ctx.principal, ctx.params.id ?? '')
        const r = await uploads().receive(up, offset, ctx.bodyStream!, checksum)
        return { status: 204, headers: { 'upload-offset': String(r.offset), ...expires(up) } }
      }),
    },
    {
      method: 'del',
      pattern: `${BASE}/:id`,
      access: 'station',
      handler: tus(async (ctx) => {
        checkTusResumable(ctx.headers)
        await uploads().terminate(await uploads().find(ctx.principal, ctx.params.id ?? ''))
        return { status: 204 }
      }),
    },
  ]
}
