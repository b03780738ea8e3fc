/**
 * The review loop over HTTP:
 *  - `POST /api/v1/results/:frameId/review` (admin) records a reviewer's verdict and boxes:
 *    `{"verdict":"pass"|"fail","detections":[{"class","box":[x1,y1,x2,y2]}]}`, boxes in the
 *    frame's pixels, classes from the frame's model, at most REVIEW_LIMITS.maxDetections boxes,
 *    body at most 64 KiB -> 201 with the review. The frame's record is never changed.
 *  - `GET /api/v1/results/:frameId/reviews` (admin): every review of a frame, oldest first.
 *  - `GET /api/v1/review?line=&status=open|reviewed&limit=&cursor=` (admin): the queue.
 *  - `POST /api/v1/results/:frameId/flag` (station, kiosk or admin token of the frame's line):
 *    "this verdict is wrong", `{"note"?: string}` (at most 500 characters) -> 201.
 */
import sharp from 'sharp'
import { isId } from '../../shared/domain/ids.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { FlagInputSchema, REVIEW_STATUSES, type ReviewStatus } from '../../shared/domain/review.ts'
import { canUseLine, describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import { checkDetections, parseReviewInput, ReviewError, type ReviewErrorCode } from '../review/validate.ts'
import { StorageError } from '../storage/errors.ts'
import { jsonBody } from './body.ts'
import { json, ok, type RequestContext, type Route } from './types.ts'
import { queryCursor, queryLimit, queryLine } from './query.ts'

const REVIEW_BODY_LIMIT = 64 * 1024
const FLAG_BODY_LIMIT = 4 * 1024

/** The one table from review error codes to HTTP statuses. */
const REVIEW_STATUS: Record<ReviewErrorCode, number> = {
  invalid_review: 400,
  unknown_class: 422,
  box_outside_image: 422,
  empty_box: 422,
  no_image_size: 409,
  unknown_model: 409,
}

async function frameFor(core: Core, ctx: RequestContext): Promise<InspectionResult> {
  const frameId = ctx.params.frameId!
  if (!isId(frameId)) throw badRequest('frame id must be an id', 'bad_frame_id')
  const r = await core.store.get(frameId)
  if (!r || !canUseLine(ctx.principal, r.line)) throw notFound(`no result for frame ${frameId}`)
  return r
}

/** The recorded size, else the stored image's (a browser result may not carry one). */
async function imageSize(core: Core, r: InspectionResult): Promise<{ width: number; height: number }> {
  if (r.width && r.height) return { width: r.width, height: r.height }
  const img = (await core.store.getImage(r.frameId, 'original')) ?? null
  if (img) {
    const meta = await sharp(img.bytes).metadata()
    if (meta.width && meta.height) return { width: meta.width, height: meta.height }
  }
  throw new ReviewError('no_image_size', `frame ${r.frameId} has no recorded image size and no stored original to measure; boxes cannot be checked`)
}

function classesOf(core: Core, r: InspectionResult): readonly string[] {
  const m = core.models.get(r.model.name)?.manifest
  if (!m || m.task !== 'detect') throw new ReviewError('unknown_model', `model ${r.model.name} of frame ${r.frameId} is not in the models folder; its classes are unknown`)
  return m.classes
}

const asHttp = (err: unknown): never => {
  if (err instanceof ReviewError) throw new HttpError(REVIEW_STATUS[err.code], err.code, err.message)
  if (err instanceof StorageError && (err.code === 'invalid' || err.code === 'bad_cursor')) throw badRequest(err.message, err.code)
  throw err
}

export function reviewRoutes(core: Core): Route[] {
  return [
    {
      method: 'post',
      pattern: '/api/v1/results/:frameId/review',
      access: 'admin',
      bodyLimit: REVIEW_BODY_LIMIT,
      handler: async (ctx) => {
        const r = await frameFor(core, ctx)
        try {
          const input = parseReviewInput(jsonBody(ctx.body))
          const detections = checkDetections(input, classesOf(core, r), await imageSize(core, r))
          const review = await core.review.review({ frameId: r.frameId, verdict: input.verdict, detections, reviewer: describePrincipal(ctx.principal) }, r.verdict)
          // the record was there a moment ago; only a retention sweep in between removes it
          if (!review) throw notFound(`no result for frame ${r.frameId}`)
          return json(201, review)
        } catch (err) {
          return asHttp(err)
        }
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/results/:frameId/reviews',
      access: 'admin',
      handler: async (ctx) => ok({ items: await core.review.store.history((await frameFor(core, ctx)).frameId) }),
    },
    {
      method: 'post',
      pattern: '/api/v1/results/:frameId/flag',
      access: 'read',
      bodyLimit: FLAG_BODY_LIMIT,
      handler: async (ctx) => {
        const r = await frameFor(core, ctx)
        const parsed = FlagInputSchema.safeParse(ctx.body.length ? jsonBody(ctx.body) : {})
        if (!parsed.success) throw badRequest(`expected {"note"?: string of at most 500 characters}: ${parsed.error.issues.map((i) => i.message).join('; ')}`, 'invalid_flag')
        const by = describePrincipal(ctx.principal)
        await core.review.enqueue(r.frameId, r.line, 'flag', { by, ...(parsed.data.note ? { note: parsed.data.note } : {}) })
        await core.store.audit.append({ actor: by, action: 'review.flag', target: r.frameId, after: { verdict: r.verdict, ...(parsed.data.note ? { note: parsed.data.note } : {}) } })
        return json(201, { frameId: r.frameId, status: 'open' })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/review',
      access: 'admin',
      handler: async (ctx) => {
        const q = ctx.query
        const line = queryLine(q)
        const status = q.get('status')
        if (status !== null && !(REVIEW_STATUSES as readonly string[]).includes(status)) throw badRequest(`"status" must be one of ${REVIEW_STATUSES.join(', ')}`, 'bad_status')
        const n = queryLimit(q, 500)
        const cursor = queryCursor(q)
        try {
          return ok(
            await core.review.store.list({
              ...(line !== undefined ? { line } : {}),
              ...(status !== null ? { status: status as ReviewStatus } : {}),
              ...(n !== undefined ? { limit: n } : {}),
              ...(cursor !== undefined ? { cursor } : {}),
            }),
          )
        } catch (err) {
          return asHttp(err)
        }
      },
    },
  ]
}
