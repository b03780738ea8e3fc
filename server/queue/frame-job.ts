/**
 * A frame on its way through the queue: metadata in headers, the image bytes as the body (the
 * RabbitMQ transport moves payloads over its inline limit to the blob store and carries a
 * reference instead, see server/queue/).
 */
import type { HeaderValue, QueueMessage } from './types.ts'

export interface FrameJob {
  frameId: string
  line: string
  station: string
  capturedAt: number
  /** When the gateway received it, ms since the epoch on the server's clock. */
  receivedAt: number
  mime: string
  width: number
  height: number
  source: 'ws' | 'http' | 'upload'
  model?: string
  jobId?: string
  audit?: boolean
  /** The camera frame `image` was resized from (the model-size uplink); results are reported in it. */
  from?: { width: number; height: number }
  /** The part the frame is a view of. */
  partId?: string
  /** Client-side stage timings carried along (capture, prefilter, encode), ms. */
  clientTimings?: Record<string, number>
  image: Uint8Array
}

export function toQueueMessage(job: FrameJob): QueueMessage {
  const headers: Record<string, HeaderValue> = {
    line: job.line,
    station: job.station,
    capturedAt: job.capturedAt,
    receivedAt: job.receivedAt,
    mime: job.mime,
    width: job.width,
    height: job.height,
    source: job.source,
  }
  if (job.model) headers.model = job.model
  if (job.jobId) headers.jobId = job.jobId
  if (job.audit) headers.audit = true
  if (job.from) {
    headers.fromWidth = job.from.width
    headers.fromHeight = job.from.height
  }
  if (job.partId) headers.partId = job.partId
  if (job.clientTimings) headers.clientTimings = JSON.stringify(job.clientTimings)
  return { id: job.frameId, headers, body: job.image }
}

export function fromQueueMessage(m: QueueMessage): FrameJob {
  const h = m.headers
  const s = (k: string) => (typeof h[k] === 'string' ? (h[k] as string) : undefined)
  const n = (k: string) => (typeof h[k] === 'number' ? (h[k] as number) : Number(h[k] ?? 0))
  const job: FrameJob = {
    frameId: m.id,
    line: s('line') ?? 'unknown',
    station: s('station') ?? 'unknown',
    capturedAt: n('capturedAt'),
    receivedAt: n('receivedAt'),
    mime: s('mime') ?? 'application/octet-stream',
    width: n('width'),
    height: n('height'),
    source: (s('source') as FrameJob['source']) ?? 'ws',
    image: m.body,
  }
  const model = s('model')
  if (model) job.model = model
  const jobId = s('jobId')
  if (jobId) job.jobId = jobId
  if (h.audit === true || h.audit === 'true') job.audit = true
  const fromWidth = n('fromWidth')
  const fromHeight = n('fromHeight')
  if (fromWidth > 0 && fromHeight > 0) job.from = { width: fromWidth, height: fromHeight }
  const partId = s('partId')
  if (partId) job.partId = partId
  const ct = s('clientTimings')
  if (ct) {
    try {
      job.clientTimings = JSON.parse(ct) as Record<string, number>
    } catch {
      // a malformed header only loses the client's timings, never the frame
    }
  }
  return job
}
