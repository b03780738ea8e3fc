/** The review routes as the review page uses them, with the admin token; failures as values. */
import { z } from 'zod'
import { InspectionResultSchema } from '../../shared/domain/result.ts'
import { REVIEW_REASONS, REVIEW_STATUSES, type ReviewInput } from '../../shared/domain/review.ts'
import { requestJson } from '../api/http.ts'
import type { Fetched } from '../api/http.ts'

const ReviewSchema = z.object({
  id: z.number(),
  frameId: z.string(),
  line: z.string(),
  capturedAt: z.number(),
  verdict: z.enum(['pass', 'fail']),
  detections: z.array(z.object({ class: z.string(), classId: z.number(), box: z.tuple([z.number(), z.number(), z.number(), z.number()]) })),
  reviewer: z.string(),
  at: z.number(),
})
export type ReviewView = z.infer<typeof ReviewSchema>

const QueueItemSchema = z.object({
  frameId: z.string(),
  line: z.string(),
  capturedAt: z.number(),
  reasons: z.array(z.enum(REVIEW_REASONS)),
  status: z.enum(REVIEW_STATUSES),
  queuedAt: z.number(),
  flaggedBy: z.string().optional(),
  note: z.string().optional(),
  review: ReviewSchema.optional(),
})
export type QueueItem = z.infer<typeof QueueItemSchema>
const QueueSchema = z.object({ items: z.array(QueueItemSchema), nextCursor: z.string().optional() })

export function getQueue(token: string, q: { line?: string; status?: string }): Promise<Fetched<z.infer<typeof QueueSchema>>> {
  const p = new URLSearchParams()
  if (q.line) p.set('line', q.line)
  if (q.status) p.set('status', q.status)
  p.set('limit', '200')
  return requestJson('GET', `/api/v1/review?${p}`, QueueSchema, token)
}

export const getResult = (token: string, frameId: string) => requestJson('GET', `/api/v1/results/${encodeURIComponent(frameId)}`, InspectionResultSchema, token)

export const postReview = (token: string, frameId: string, body: ReviewInput) => requestJson('POST', `/api/v1/results/${encodeURIComponent(frameId)}/review`, ReviewSchema, token, body)

/**
 * The frame's original image (its thumbnail when no original was kept) as an object URL: fetched
 * with the token in a header, never in the URL. The caller revokes it.
 */
export async function imageUrl(token: string, frameId: string): Promise<Fetched<string>> {
  for (const variant of ['original', 'thumbnail']) {
    const url = `/api/v1/results/${encodeURIComponent(frameId)}/image?variant=${variant}`
    let res: Response
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    } catch (e) {
      return { ok: false, error: { code: 'network', message: `${url}: ${(e as Error).message}` } }
    }
    if (res.ok) return { ok: true, value: URL.createObjectURL(await res.blob()) }
    if (res.status !== 404) return { ok: false, error: { code: `http_${res.status}`, message: `${url}: ${res.status} ${res.statusText}` } }
  }
  return { ok: false, error: { code: 'no_image', message: `no image was stored for frame ${frameId} (STORE_IMAGES)` } }
}
