/**
 * Reading recorded results: one by frame id, its stored image, and filtered pages (JSON or CSV).
 * A token scoped to lines only ever sees those lines.
 */
import { isId } from '../../shared/domain/ids.ts'
import { canUseLine, type Principal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import type { ResultQuery } from '../storage/types.ts'
import { csvExport, resultsCsv } from './csv.ts'
import { queryCursor, queryLimit, queryLine, queryTime } from './query.ts'
import { ok, type Route } from './types.ts'

export function parseResultQuery(q: URLSearchParams, principal: Principal): ResultQuery {
  const out: ResultQuery = {}
  const line = queryLine(q)
  if (line !== undefined) {
    if (!canUseLine(principal, line)) throw new HttpError(403, 'forbidden', `this token may not read line ${line}`)
    out.line = line
  }
  if (principal.lines !== '*') out.lines = principal.lines
  const station = q.get('station')
  if (station !== null) {
    if (!isId(station)) throw badRequest('"station" must be an id', 'bad_station')
    out.station = station
  }
  const from = queryTime(q, 'from')
  const to = queryTime(q, 'to')
  if (from !== undefined) out.from = from
  if (to !== undefined) out.to = to
  const cls = q.get('class')
  if (cls !== null) {
    if (cls.length === 0 || cls.length > 64) throw badRequest('"class" must be 1-64 characters', 'bad_class')
    out.class = cls
  }
  const verdict = q.get('verdict')
  if (verdict !== null) {
    if (verdict !== 'pass' && verdict !== 'fail') throw badRequest('"verdict" must be pass or fail', 'bad_verdict')
    out.verdict = verdict
  }
  const jobId = q.get('job')
  if (jobId !== null) {
    if (!isId(jobId)) throw badRequest('"job" must be an id', 'bad_job')
    out.jobId = jobId
  }
  const cursor = queryCursor(q)
  if (cursor !== undefined) out.cursor = cursor
  const limit = queryLimit(q)
  if (limit !== undefined) out.limit = limit
  return out
}

export function resultRoutes(core: Core): Route[] {
  return [
    {
      method: 'get',
      pattern: '/api/v1/results',
      access: 'read',
      handler: async (ctx) => {
        const q = parseResultQuery(ctx.query, ctx.principal)
        if (ctx.query.get('format') === 'csv') {
          return csvExport((page) => core.store.query({ ...q, ...page }), q.cursor, resultsCsv, 'linesight-results.csv')
        }
        return ok(await core.store.query(q))
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/results/:frameId',
      access: 'read',
      handler: async (ctx) => {
        const frameId = ctx.params.frameId!
        if (!isId(frameId)) throw badRequest('frame id must be an id', 'bad_frame_id')
        const r = await core.store.get(frameId)
        if (!r || !canUseLine(ctx.principal, r.line)) throw notFound(`no result for frame ${frameId}`)
        return ok(r)
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/results/:frameId/image',
      access: 'read',
      handler: async (ctx) => {
        const frameId = ctx.params.frameId!
        if (!isId(frameId)) throw badRequest('frame id must be an id', 'bad_frame_id')
        const variant = ctx.query.get('variant') ?? 'thumbnail'
        if (variant !== 'thumbnail' && variant !== 'original') throw badRequest('"variant" must be thumbnail or original', 'bad_variant')
        const r = await core.store.get(frameId)
        if (!r || !canUseLine(ctx.principal, r.line)) throw notFound(`no result for frame ${frameId}`)
        const img = await core.store.getImage(frameId, variant)
        if (!img) throw notFound(`no ${variant} image stored for frame ${frameId}`)
        // not immutable: a station's full-resolution evidence replaces the image shortly after the result
        return { status: 200, headers: { 'content-type': img.mime, 'cache-control': 'private, no-cache' }, body: img.bytes }
      },
    },
  ]
}
