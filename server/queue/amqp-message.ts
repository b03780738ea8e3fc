/**
 * How a QueueMessage travels as an AMQP message, and how a dead letter's story is read back.
 * The frame id is the AMQP message id; the frame's headers are AMQP headers; every header the
 * transport adds starts with `x-` (the broker's own do too), so a frame's headers must not.
 */
import type { AsyncMessage, Envelope, ReturnedMessage, SyncMessage } from 'rabbitmq-client'
import type { DeadLetter, DeadLetterReason, HeaderValue, Priority, QueueMessage } from './types.ts'

export const HEADER = {
  priority: 'x-linesight-priority',
  /** Set when the bytes are in the blob store, not in the body. */
  blob: 'x-linesight-blob',
  /** Set when this process dead-lettered the frame itself (it had an error to record). */
  reason: 'x-linesight-reason',
  error: 'x-linesight-error',
  deadAt: 'x-linesight-dead-at',
} as const

// neither text/plain nor application/json: rabbitmq-client would decode those bodies for us
const CONTENT_TYPE = 'application/octet-stream'

type Incoming = AsyncMessage | SyncMessage | ReturnedMessage

/** A view on the same bytes, not a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function bodyOf(msg: Incoming): Buffer {
  const b: unknown = msg.body
  if (Buffer.isBuffer(b)) return b
  if (b instanceof Uint8Array) return asBuffer(b)
  return Buffer.from(typeof b === 'string' ? b : JSON.stringify(b ?? null))
}

export interface FrameEnvelopeOptions {
  exchange: string
  routingKey: string
  /** Per-message TTL; the broker dead-letters the frame as `expired` when it waits longer. */
  expirationMs?: number
  blobRef?: string
}

export function frameEnvelope(message: QueueMessage, priority: Priority, opts: FrameEnvelopeOptions): Envelope {
  for (const key of Object.keys(message.headers)) {
    if (key.startsWith('x-')) throw new TypeError(`header ${key} of frame ${message.id}: headers starting with x- belong to the transport`)
  }
  const headers: Record<string, HeaderValue> = { ...message.headers, [HEADER.priority]: priority }
  if (opts.blobRef) headers[HEADER.blob] = opts.blobRef
  const env: Envelope = {
    exchange: opts.exchange,
    routingKey: opts.routingKey,
    // an unroutable frame comes back (basic.return) instead of being confirmed and dropped
    mandatory: true,
    messageId: message.id,
    contentType: CONTENT_TYPE,
    durable: true,
    headers,
  }
  if (opts.expirationMs !== undefined) env.expiration = String(Math.max(0, Math.round(opts.expirationMs)))
  return env
}

export interface IncomingFrame {
  message: QueueMessage
  priority: Priority
  attempt: number
  blobRef?: string
}

export function decodeFrame(msg: Incoming, fallback: Priority): IncomingFrame {
  const raw: Record<string, unknown> = msg.headers ?? {}
  const headers: Record<string, HeaderValue> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('x-') || k === 'CC' || k === 'BCC') continue
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k] = v
  }
  const p = raw[HEADER.priority]
  const blob = raw[HEADER.blob]
  const out: IncomingFrame = {
    message: { id: msg.messageId ?? '', headers, body: bodyOf(msg) },
    priority: p === 'live' || p === 'batch' ? p : fallback,
    // quorum queues count earlier deliveries that came back (nack, consumer gone)
    attempt: (Number(raw['x-delivery-count']) || 0) + 1,
  }
  if (typeof blob === 'string' && blob) out.blobRef = blob
  return out
}

const BROKER_REASONS: Record<string, DeadLetterReason> = {
  delivery_limit: 'delivery-limit',
  expired: 'expired',
  rejected: 'rejected',
  maxlen: 'maxlen',
}

export interface IncomingDeadLetter {
  dead: DeadLetter
  blobRef?: string
  /** The routing key it was published with, to put it back. */
  routingKey: string
}

export function decodeDeadLetter(msg: Incoming): IncomingDeadLetter {
  const frame = decodeFrame(msg, 'live')
  const raw: Record<string, unknown> = msg.headers ?? {}
  const deaths = Array.isArray(raw['x-death']) ? (raw['x-death'] as Record<string, unknown>[]) : []
  const last = deaths[0] ?? {}
  const ours = raw[HEADER.reason]
  const why = last.reason ?? raw['x-first-death-reason']
  const brokers = typeof why === 'string' ? why : ''
  const dead: DeadLetter = {
    message: frame.message,
    priority: frame.priority,
    reason: typeof ours === 'string' && ours ? ours : (BROKER_REASONS[brokers] ?? (brokers || 'unknown')),
    // x-death times are AMQP timestamps, whole seconds
    deadAt: Number(raw[HEADER.deadAt]) || Number(last.time) * 1000 || 0,
  }
  const error = raw[HEADER.error]
  if (typeof error === 'string') dead.error = error
  const out: IncomingDeadLetter = { dead, routingKey: msg.routingKey }
  if (frame.blobRef) out.blobRef = frame.blobRef
  return out
}

/** A delivered frame re-sent to the dead-letter exchange by this process, with why. */
export function deadLetterEnvelope(msg: Incoming, exchange: string, reason: DeadLetterReason, error: string | undefined): { envelope: Envelope; body: Buffer } {
  const headers: Record<string, unknown> = { ...msg.headers }
  delete headers['x-delivery-count']
  headers[HEADER.reason] = reason
  headers[HEADER.deadAt] = Date.now()
  if (error !== undefined) headers[HEADER.error] = error
  else delete headers[HEADER.error]
  // mandatory: with the dead-letter bindings gone the copy would be confirmed and dropped
  const envelope: Envelope = { exchange, routingKey: msg.routingKey, mandatory: true, messageId: msg.messageId, contentType: CONTENT_TYPE, durable: true, headers }
  return { envelope, body: bodyOf(msg) }
}

/** A dead letter sent back to the frames exchange as a new message: a fresh attempt count and TTL. */
export function requeueEnvelope(msg: Incoming, exchange: string, expirationMs: number | undefined): { envelope: Envelope; body: Buffer } {
  const headers: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(msg.headers ?? {})) {
    if (!k.startsWith('x-') || k === HEADER.priority || k === HEADER.blob) headers[k] = v
  }
  const envelope: Envelope = { exchange, routingKey: msg.routingKey, mandatory: true, messageId: msg.messageId, contentType: CONTENT_TYPE, durable: true, headers }
  if (expirationMs !== undefined) envelope.expiration = String(expirationMs)
  return { envelope, body: bodyOf(msg) }
}
