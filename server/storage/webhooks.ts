/**
 * Webhook endpoints and their durable outbox. An event is written here before anyone tries to
 * send it, so a receiver that is down for an hour, or a linesight restart, loses nothing: the
 * deliverer (server/outputs/webhooks/) works the outbox until each row is delivered or dead.
 *
 * (webhook_id, message_id) is the key: the same part reported twice (part events are at least
 * once across a restart) is one delivery, and the receiver sees the same `webhook-id` on every
 * retry of it.
 */
import { randomBytes } from 'node:crypto'
import { isId } from '../../shared/domain/ids.ts'
import { invalid } from './errors.ts'
import type { Db } from './sql.ts'
import { Where } from './where.ts'

export const WEBHOOK_EVENTS = ['part.failed', 'part.inspected', 'station.offline'] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

export interface Webhook {
  id: string
  url: string
  events: WebhookEvent[]
  /** Empty: every line. */
  lines: string[]
  createdAt: number
  createdBy: string
}

export interface WebhookWithSecret extends Webhook {
  secret: string
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead'
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead']

export interface Delivery {
  webhookId: string
  /** The `webhook-id` header; the receiver's deduplication key. */
  messageId: string
  event: WebhookEvent
  /** The exact body sent (and signed), every attempt. */
  payload: string
  status: DeliveryStatus
  attempts: number
  createdAt: number
  nextAt: number
  lastAt?: number
  lastStatus?: number
  lastError?: string
}

interface HookRow {
  id: string
  url: string
  events: string
  lines: string
  secret: string
  created_at: number
  created_by: string
}

interface DeliveryRow {
  webhook_id: string
  message_id: string
  event: WebhookEvent
  payload: string
  status: DeliveryStatus
  attempts: number
  created_at: number
  next_at: number
  last_at: number | null
  last_status: number | null
  last_error: string | null
}

const HOOK_COLUMNS = 'id, url, events, lines, secret, created_at, created_by'
const DELIVERY_COLUMNS = 'webhook_id, message_id, event, payload, status, attempts, created_at, next_at, last_at, last_status, last_error'
/** A message id is the event and a part or frame id (printable ASCII, see shared/domain/part.ts). */
const MESSAGE_ID = /^[\x21-\x7e]{1,200}$/

function hook(r: HookRow): WebhookWithSecret {
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as WebhookEvent[],
    lines: JSON.parse(r.lines) as string[],
    secret: r.secret,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
  }
}

export function withoutSecret(w: WebhookWithSecret): Webhook {
  const { secret: _secret, ...rest } = w
  return rest
}

function delivery(r: DeliveryRow): Delivery {
  const d: Delivery = {
    webhookId: r.webhook_id,
    messageId: r.message_id,
    event: r.event,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    nextAt: Number(r.next_at),
  }
  if (r.last_at !== null) d.lastAt = Number(r.last_at)
  if (r.last_status !== null) d.lastStatus = Number(r.last_status)
  if (r.last_error !== null) d.lastError = r.last_error
  return d
}

/** Standard Webhooks secrets: `whsec_` and base64 of 24 random bytes. */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`
const newId = () => `wh-${randomBytes(8).toString('hex')}`

export interface NewWebhook {
  url: string
  events: readonly WebhookEvent[]
  lines?: readonly string[]
  createdBy: string
}

export class WebhookStore {
  constructor(private readonly db: Db) {}

  /** The secret is returned here and by `withSecrets()` (for signing), never by `list()`. */
  async create(w: NewWebhook): Promise<WebhookWithSecret> {
    const events = [...new Set(w.events)]
    if (!events.length || !events.every((e) => WEBHOOK_EVENTS.includes(e))) throw invalid(`events must be some of ${WEBHOOK_EVENTS.join(', ')}`)
    const lines = [...new Set(w.lines ?? [])].sort()
    if (!lines.every(isId)) throw invalid('lines must be line ids')
    if (typeof w.url !== 'string' || w.url.length > 2000) throw invalid('url must be at most 2000 characters')
    const row: HookRow = { id: newId(), url: w.url, events: JSON.stringify(events), lines: JSON.stringify(lines), secret: newSecret(), created_at: Date.now(), created_by: w.createdBy }
    await this.db.run(`INSERT INTO webhooks (${HOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [row.id, row.url, row.events, row.lines, row.secret, row.created_at, row.created_by])
    return hook(row)
  }

  async list(): Promise<Webhook[]> {
    return (await this.withSecrets()).map(withoutSecret)
  }

  async withSecrets(): Promise<WebhookWithSecret[]> {
    return (await this.db.all<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhooks ORDER BY created_at, id`)).map(hook)
  }

  /** Removes the endpoint and its outbox; false when there was none. */
  async remove(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // explicit: SQLite enforces the cascade only with foreign_keys on, PostgreSQL always
      await tx.run('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [id])
      return (await tx.run('DELETE FROM webhooks WHERE id = $1', [id])) > 0
    })
  }

  /** Adds an event to the outbox, due now; false when this message was queued for this endpoint already. */
  async enqueue(d: { webhookId: string; messageId: string; event: WebhookEvent; payload: string }): Promise<boolean> {
    if (!MESSAGE_ID.test(d.messageId)) throw invalid('message id must be 1-200 printable ASCII characters')
    const now = Date.now()
    const n = await this.db.run(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, NULL, NULL, NULL)
       ON CONFLICT (webhook_id, message_id) DO NOTHING`,
      [d.webhookId, d.messageId, d.event, d.payload, now],
    )
    return n > 0
  }

  /** Pending deliveries due by `now`, oldest first. */
  async due(now: number, limit: number): Promise<Delivery[]> {
    const rows = await this.db.all<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, created_at, message_id LIMIT $2`,
      [now, limit],
    )
    return rows.map(delivery)
  }

  /**
   * Takes a due delivery for one attempt by moving its next try to `leaseUntil`; false when
   * another process took it first (its next_at moved). A sender that dies mid-attempt leaves it
   * to be tried again once the lease passes.
   */
  async claim(d: Delivery, leaseUntil: number): Promise<boolean> {
    const n = await this.db.run(`UPDATE webhook_deliveries SET next_at = $3 WHERE webhook_id = $1 AND message_id = $2 AND status = 'pending' AND next_at = $4`, [
      d.webhookId,
      d.messageId,
      leaseUntil,
      d.nextAt,
    ])
    return n > 0
  }

  /** Records an attempt: delivered, retried at `nextAt`, or dead (`nextAt` null). */
  async attempted(d: Pick<Delivery, 'webhookId' | 'messageId'>, outcome: { delivered: boolean; status?: number; error?: string; nextAt: number | null }): Promise<void> {
    const status: DeliveryStatus = outcome.delivered ? 'delivered' : outcome.nextAt === null ? 'dead' : 'pending'
    const now = Date.now()
    await this.db.run(
      `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_at = $4, last_at = $5, last_status = $6, last_error = $7 WHERE webhook_id = $1 AND message_id = $2`,
      [d.webhookId, d.messageId, status, outcome.nextAt ?? now, now, outcome.status ?? null, outcome.error?.slice(0, 500) ?? null],
    )
  }

  /** Newest first. */
  async deliveries(q: { status?: DeliveryStatus; webhookId?: string; limit?: number } = {}): Promise<Delivery[]> {
    const w = new Where()
    if (q.status !== undefined) {
      if (!DELIVERY_STATUSES.includes(q.status)) throw invalid(`status must be one of ${DELIVERY_STATUSES.join(', ')}`)
      w.clauses.push(`status = ${w.p(q.status)}`)
    }
    if (q.webhookId !== undefined) w.clauses.push(`webhook_id = ${w.p(q.webhookId)}`)
    const limit = Math.min(Math.max(1, q.limit ?? 100), 1000)
    const rows = await this.db.all<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${w.sql} ORDER BY created_at DESC, message_id DESC LIMIT ${w.p(limit)}`, w.params)
    return rows.map(delivery)
  }

  /** Puts a delivery (dead or delivered) back in the outbox, due now, with its retries renewed; false when there is none. */
  async resend(webhookId: string, messageId: string): Promise<boolean> {
    const n = await this.db.run(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = $3 WHERE webhook_id = $1 AND message_id = $2`, [
      webhookId,
      messageId,
      Date.now(),
    ])
    return n > 0
  }
}
