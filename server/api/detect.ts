/**
 * POST /api/v1/detect: one image in the body, processed in memory, the result as the reply.
 * Limits: MAX_FRAME_BYTES (413), MAX_PIXELS (413), JPEG or PNG only (415), empty or
 * undecodable (422); a frame the pipeline failed is mapped by server/api/statuses.ts. `part=P`
 * attaches the frame to part P (1-128 printable ASCII, 400 otherwise).
 */
import { randomUUID } from 'node:crypto'
import { isId } from '../../shared/domain/ids.ts'
import { readHeader } from '../inference/preprocess.ts'
import { InferenceError } from '../inference/types.ts'
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
        // read only the header, as the worker will: refuse huge or broken images before any worker decodes them
        const { width, height } = await readHeader(ctx.body, core.config.maxPixels).catch((err: unknown) => {
          if (err instanceof InferenceError) throw new HttpError(err.code === 'too_many_pixels' ? 413 : 422, err.code, err.message)
          throw err
        })
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
