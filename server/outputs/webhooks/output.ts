/**
 * The webhook output: turns parts and station changes into outbox rows for every endpoint that
 * asked for that event and line. The writes happen off the inspection path; at most `queueMax`
 * wait for the store at once, beyond that an event is dropped and counted.
 */
import type { PartRecord } from '../../../shared/domain/part.ts'
import type { WebhookStore, WebhookWithSecret } from '../../storage/webhooks.ts'
import type { OutputMetrics } from '../mqtt.ts'
import type { OutputSink, StationChange, StationState } from '../types.ts'
import { offlineMessage, partMessages, type WebhookMessage } from './events.ts'

/** Endpoints changed in another process are seen within this long, ms. */
const ENDPOINTS_REFRESH_MS = 5000

export interface WebhookOutputDeps {
  store: Pick<WebhookStore, 'withSecrets' | 'enqueue'>
  queueMax: number
  metrics: Pick<OutputMetrics, 'outputDropped' | 'outputPending'>
  log: { warn(obj: object, msg: string): void }
  /** Called after rows were added, so the deliverer sends them now rather than at its next look. */
  onQueued(): void
}

export class WebhookOutput implements OutputSink {
  readonly name = 'webhook'
  #endpoints: WebhookWithSecret[] = []
  #loaded: Promise<void>
  #pending = 0
  readonly #timer: NodeJS.Timeout
  readonly #writes = new Set<Promise<void>>()

  constructor(private readonly deps: WebhookOutputDeps) {
    this.#loaded = this.refresh()
    this.#timer = setInterval(() => void this.refresh(), ENDPOINTS_REFRESH_MS)
    this.#timer.unref()
  }

  /** Reloads the endpoints (called after an administrator changes them). */
  async refresh(): Promise<void> {
    try {
      this.#endpoints = await this.deps.store.withSecrets()
    } catch (err) {
      this.deps.log.warn({ err: String(err) }, 'webhooks: reading the endpoints failed; keeping the last ones')
    }
  }

  part(part: PartRecord): void {
    this.#queue(partMessages(part))
  }

  station(state: StationState, change: StationChange): void {
    if (change === 'offline') this.#queue([offlineMessage(state)])
  }

  #queue(messages: WebhookMessage[]): void {
    if (this.#pending >= this.deps.queueMax) {
      this.deps.metrics.outputDropped.inc({ output: 'webhook' })
      return
    }
    this.#pending++
    this.deps.metrics.outputPending.set({ output: 'webhook' }, this.#pending)
    const write = this.#write(messages).finally(() => {
      this.#pending--
      this.deps.metrics.outputPending.set({ output: 'webhook' }, this.#pending)
      this.#writes.delete(write)
    })
    this.#writes.add(write)
  }

  async #write(messages: WebhookMessage[]): Promise<void> {
    await this.#loaded
    let added = 0
    for (const m of messages) {
      for (const w of this.#endpoints) {
        if (!w.events.includes(m.event) || (w.lines.length && !w.lines.includes(m.line))) continue
        try {
          if (await this.deps.store.enqueue({ webhookId: w.id, messageId: m.messageId, event: m.event, payload: m.payload })) added++
        } catch (err) {
          this.deps.metrics.outputDropped.inc({ output: 'webhook' })
          this.deps.log.warn({ err: String(err), webhook: w.id, messageId: m.messageId }, 'webhooks: writing to the outbox failed; event dropped')
        }
      }
    }
    if (added) this.deps.onQueued()
  }

  /** Waits for the outbox writes under way (shutdown: what was accepted reaches the store). */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await Promise.all([...this.#writes])
  }
}
