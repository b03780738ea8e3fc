/**
 * POST /api/v1/detect: one image in the body, processed in memory, the result as the reply.
 * Limits: MAX_FRAME_BYTES (413), MAX_PIXELS (413), JPEG or PNG only (415), empty or
 * undecodable (422); a frame the pipeline failed is mapped by server/api/statuses.ts. `part=P`
 * attaches the frame to part P (1-128 printable ASCII, 400 otherwise).
 */
import { randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { isId } from '../../shared/domain/ids.ts'
import { sniffImageSize } from '../inference/image-header.ts'
import { isPartId } from '../../shared/domain/part-id.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest } from '../errors.ts'
import { FrameFailed } from '../ingest/ingest.ts'
import { ok, type Route } from './types.ts'
import { lineParam } from './query.ts'

const TYPES = new Set(['image/jpeg', 'image/png'])
const DETECT_TIMEOUT_MS = 30_000

export function detectRoutes(core: Core): Route[] {
  return [
    {
      method: 'post',
      pattern: '/api/v1/detect',
      access: 'station',
      bodyLimit: core.config.maxFrameBytes,
      handler: async (ctx) => {
        const type = (ctx.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        if (!TYPES.has(type)) throw new HttpError(415, 'unsupported_type', `Content-Type must be image/jpeg or image/png, got "${type.slice(0, 60) || '(none)'}"`)
        const line = lineParam(ctx.query.get('line'))
        const station = ctx.query.get('station') ?? ctx.principal.station ?? 'http'
        const model = ctx.query.get('model') ?? undefined
        const partId = ctx.query.get('part') ?? undefined
        if (!isId(station)) throw badRequest('query parameter "station" must be an id', 'bad_station')
        if (partId !== undefined && !isPartId(partId)) throw badRequest('query parameter "part" must be a part id (1-128 printable ASCII, no spaces)', 'bad_part')
        if (model !== undefined && !core.models.get(model)) throw new HttpError(404, 'unknown_model', `no model named "${model.slice(0, 64)}" is loaded`)
        if (ctx.body.length === 0) throw new HttpError(422, 'empty', 'the request body is empty')
        // read only the header: refuse huge or broken images before any worker decodes them. In
        // JavaScript where it can be read for sure (a libvips call here cost every frame a second
        // trip through libuv's pool; the worker decodes it anyway), by libvips otherwise
        const meta =
          sniffImageSize(ctx.body) ??
          (await sharp(ctx.body, { limitInputPixels: false })
            .metadata()
            .catch((err: unknown) => {
              throw new HttpError(422, 'undecodable', `the body is not a decodable ${type} image: ${(err as Error).message}`)
            }))
        const width = meta.width ?? 0
        const height = meta.height ?? 0
        if (width * height > core.config.maxPixels) throw new HttpError(413, 'too_many_pixels', `${width}x${height} exceeds ${core.config.maxPixels} pixels`)
        const receivedAt = Date.now()
        const result = await core.ingest.detect(
          {
            frameId: randomUUID(),
            line,
            station,
            capturedAt: Date.now(),
            receivedAt: Date.now(),
            mime: type,
            width,
            height,
            source: 'http',
            ...(model ? { model } : {}),
            ...(partId ? { partId } : {}),
            image: ctx.body,
          },
          DETECT_TIMEOUT_MS,
          ctx.signal,
        )
        core.metrics.e2eSeconds.observe({ source: 'http' }, (Date.now() - receivedAt) / 1000)
        if (result.error) throw new FrameFailed(result.error.code, result.error.message)
        return ok(result)
      },
    },
  ]
}
