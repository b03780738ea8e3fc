/**
 * Works the webhook outbox: sends what is due, records each attempt, retries on the schedule
 * (WEBHOOK_RETRY_SCHEDULE_MS) and dead-letters a delivery after its last retry. Several
 * processes may run one each: a delivery is claimed before it is sent (store.claim), so two
 * never send it at once, and one that dies mid-attempt leaves it to be tried again.
 */
import type { Delivery, WebhookStore, WebhookWithSecret } from '../../storage/webhooks.ts'
import { send } from './sender.ts'

export interface DelivererDeps {
  store: Pick<WebhookStore, 'due' | 'claim' | 'attempted' | 'withSecrets'>
  retryScheduleMs: readonly number[]
  timeoutMs: number
  metrics: {
    outputMessages: { inc(labels: { output: string }): void }
    webhookAttempts: { inc(labels: { outcome: string }): void }
  }
  log: { warn(obj: object, msg: string): void }
  /** How often the outbox is looked at when nothing pokes it, ms. */
  pollMs?: number
  /** Deliveries sent at once. */
  concurrency?: number
}

export class WebhookDeliverer {
  #running: Promise<void> | undefined
  #again = false
  #closed = false
  readonly #timer: NodeJS.Timeout

  constructor(private readonly deps: DelivererDeps) {
    this.#timer = setInterval(() => this.poke(), deps.pollMs ?? 1000)
    this.#timer.unref()
    this.poke()
  }

  /** Looks at the outbox now (again right after the current look, if one is under way). */
  poke(): void {
    if (this.#closed) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.#drain()
      .catch((err: unknown) => this.deps.log.warn({ err: String(err) }, 'webhooks: reading the outbox failed; trying again'))
      .finally(() => {
        this.#running = undefined
        if (this.#again) {
          this.#again = false
          this.poke()
        }
      })
  }

  async #drain(): Promise<void> {
    const batch = this.deps.concurrency ?? 8
    for (;;) {
      if (this.#closed) return
      const due = await this.deps.store.due(Date.now(), batch)
      if (!due.length) return
      const endpoints = new Map((await this.deps.store.withSecrets()).map((w) => [w.id, w]))
      const tried = await Promise.all(due.map((d) => this.#attempt(d, endpoints.get(d.webhookId))))
      // none tried (endpoints removed meanwhile): the same rows would come back at once
      if (due.length < batch || !tried.some(Boolean)) return
    }
  }

  /** False when it did not try (the endpoint is gone). */
  async #attempt(d: Delivery, endpoint: WebhookWithSecret | undefined): Promise<boolean> {
    if (!endpoint) return false // removed meanwhile; its outbox went with it
    // the lease outlives the attempt, so only a sender that died lets another process retry it
    if (!(await this.deps.store.claim(d, Date.now() + this.deps.timeoutMs + 30_000))) return true
    const outcome = await send(endpoint.url, endpoint.secret, d.messageId, d.payload, this.deps.timeoutMs)
    const attempt = d.attempts + 1
    const wait = this.deps.retryScheduleMs[attempt - 1]
    const nextAt = outcome.delivered || wait === undefined ? null : Date.now() + wait
    await this.deps.store.attempted(d, { ...outcome, nextAt })
    const result = outcome.delivered ? 'delivered' : nextAt === null ? 'dead' : 'retry'
    this.deps.metrics.webhookAttempts.inc({ outcome: result })
    if (outcome.delivered) this.deps.metrics.outputMessages.inc({ output: 'webhook' })
    else if (nextAt === null) this.deps.log.warn({ webhook: d.webhookId, messageId: d.messageId, attempts: attempt, error: outcome.error }, 'webhook delivery dead-lettered after its last retry')
    return true
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#running
  }
}
