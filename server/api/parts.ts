/**
 * Parts over HTTP (server/parts/):
 *   POST /api/v1/lines/:line/stations/:station/trigger   body optional {"partId"} (at most 4 KiB)
 *   GET  /api/v1/lines/:line/parts/:partId               an open part answers with closedAt null
 *   GET  /api/v1/lines/:line/parts?from=&to=&verdict=&station=&cursor=&limit=&format=csv
 *   POST /api/v1/lines/:line/parts/:partId/close
 *   GET  /api/v1/lines/:line/part-counts?hours=   current shift and each of the last hours (1-48, default 12)
 * Triggering and closing take a station token of the line (or an administrator's); reading, any
 * token that may read the line. Part ids in paths are URL-encoded.
 */
import { isId } from '../../shared/domain/ids.ts'
import { isPartId } from '../../shared/domain/part-id.ts'
import { canUseLine, type Principal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import { partCounts } from '../parts/counts.ts'
import type { PartTracker } from '../parts/tracker.ts'
import type { PartQuery } from '../storage/parts.ts'
import { jsonBody } from './body.ts'
import { csvExport, partsCsv } from './csv.ts'
import { lineParam, queryCursor, queryLimit, queryTime } from './query.ts'
import { ok, type Route } from './types.ts'

function lineOf(v: string | undefined, principal: Principal): string {
  const line = lineParam(v)
  if (!canUseLine(principal, line)) throw new HttpError(403, 'forbidden', `this token may not use line ${line}`)
  return line
}

function partIdOf(v: string | undefined): string {
  if (!isPartId(v)) throw badRequest('part id must be 1-128 printable ASCII characters without spaces', 'bad_part')
  return v
}

function parseBody(body: Uint8Array): { partId?: string } {
  if (body.length === 0) return {}
  const value = jsonBody(body)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('body must be a JSON object', 'bad_json')
  const partId = (value as { partId?: unknown }).partId
  if (partId === undefined) return {}
  return { partId: partIdOf(typeof partId === 'string' ? partId : undefined) }
}

function parseQuery(line: string, q: URLSearchParams): PartQuery {
  const out: PartQuery = { line }
  const from = queryTime(q, 'from')
  const to = queryTime(q, 'to')
  if (from !== undefined) out.from = from
  if (to !== undefined) out.to = to
  const verdict = q.get('verdict')
  if (verdict !== null) {
    if (verdict !== 'pass' && verdict !== 'fail') throw badRequest('"verdict" must be pass or fail', 'bad_verdict')
    out.verdict = verdict
  }
  const station = q.get('station')
  if (station !== null) {
    if (!isId(station)) throw badRequest('"station" must be an id', 'bad_station')
    out.station = station
  }
  const cursor = queryCursor(q)
  if (cursor !== undefined) out.cursor = cursor
  const limit = queryLimit(q)
  if (limit !== undefined) out.limit = limit
  return out
}

export function partRoutes(core: Core): Route[] {
  const tracker = (): PartTracker => {
    if (!core.parts) throw new HttpError(503, 'unavailable', 'parts are tracked by gateway processes; this one is a worker')
    return core.parts
  }
  return [
    {
      method: 'post',
      pattern: '/api/v1/lines/:line/stations/:station/trigger',
      access: 'station',
      bodyLimit: 4096,
      handler: async (ctx) => {
        const line = lineOf(ctx.params.line, ctx.principal)
        const station = ctx.params.station
        if (!isId(station)) throw badRequest('station must be an id', 'bad_station')
        const { partId } = parseBody(ctx.body)
        const started = await tracker().trigger({ line, station, ...(partId ? { partId } : {}), via: 'http' })
        return ok({ partId: started.partId, line, station })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/lines/:line/parts',
      access: 'read',
      handler: async (ctx) => {
        const line = lineOf(ctx.params.line, ctx.principal)
        const q = parseQuery(line, ctx.query)
        if (ctx.query.get('format') === 'csv') {
          return csvExport((page) => core.store.parts.query({ ...q, ...page }), q.cursor, partsCsv, `linesight-parts-${line}.csv`)
        }
        return ok(await core.store.parts.query(q))
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/lines/:line/parts/:partId',
      access: 'read',
      handler: async (ctx) => {
        const line = lineOf(ctx.params.line, ctx.principal)
        const partId = partIdOf(ctx.params.partId)
        const part = core.parts ? await core.parts.get(line, partId) : await core.store.parts.get(line, partId)
        if (!part) throw notFound(`no part ${partId} on line ${line}`)
        return ok(part)
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/lines/:line/part-counts',
      access: 'read',
      handler: async (ctx) => {
        const line = lineOf(ctx.params.line, ctx.principal)
        const raw = ctx.query.get('hours')
        const hours = raw === null ? 12 : Number(raw)
        if (!Number.isInteger(hours) || hours < 1 || hours > 48) throw badRequest('"hours" must be an integer 1-48', 'bad_hours')
        return ok(await partCounts({ parts: core.store.parts, settings: core.store.settings }, line, Date.now(), hours))
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/lines/:line/parts/:partId/close',
      access: 'station',
      handler: async (ctx) => {
        const line = lineOf(ctx.params.line, ctx.principal)
        const partId = partIdOf(ctx.params.partId)
        const part = await tracker().close(line, partId)
        if (!part) throw notFound(`no part ${partId} on line ${line}`)
        return ok(part)
      },
    },
  ]
}
