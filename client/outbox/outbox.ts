/**
 * The station's outbox: every result inferred in this browser is stored first, then sent, and
 * removed only when the server answers `ack recorded` for its frame id. While the server is
 * unreachable results pile up here (durably, see idb-store.ts); when the connection returns they
 * are replayed oldest first. The server records idempotently by frame id, so a result sent twice
 * (its ack lost with a connection) is still recorded once.
 *
 * A few results are in flight at a time: the server holds a result whose image has not arrived
 * and refuses beyond a small number of those (server/ingest/station-session.ts).
 */
import type { AckMessage } from '../../shared/protocol/messages/ack.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { BrowserResult, OutboxCounts, OutboxEntry, OutboxImage, OutboxStore } from './types.ts'

export interface OutboxOptions {
  store: OutboxStore
  line: string
  station: string
  /** Hands an entry to the socket; false when there is no connection. */
  send: (entry: OutboxEntry) => boolean
  onCounts: (counts: OutboxCounts) => void
  onError: (error: WireError) => void
  /** @default 4 */
  maxInFlight?: number
  /** An entry sent without an answer after this is sent again, ms. @default 15000 */
  answerTimeoutMs?: number
  /** Pause after the server said busy, ms. @default 2000 */
  retryDelayMs?: number
  now?: () => number
}

/** Refusals that say "not now" rather than "never": the entry is sent again later. */
const RETRYABLE = new Set(['busy', 'unavailable', 'over_credit', 'hello_first'])

export class Outbox {
  readonly #o: Required<Omit<OutboxOptions, 'now'>> & { now: () => number }
  readonly #inFlight = new Map<string, { seq: number; sentAt: number }>()
  #cursor = 0
  #online = false
  #retryAt = 0
  #pumping: Promise<void> | null = null
  #again = false
  #counts: OutboxCounts = { pending: 0, rejected: 0 }

  constructor(options: OutboxOptions) {
    this.#o = { maxInFlight: 4, answerTimeoutMs: 15_000, retryDelayMs: 2_000, now: () => Date.now(), ...options }
  }

  get counts(): OutboxCounts {
    return this.#counts
  }

  /** Reads what a previous page left behind; call once at start. */
  async load(): Promise<void> {
    await this.#refreshCounts()
    void this.pump()
  }

  /** Stores a result (and its image) for sending; resolves once it is durable. */
  async add(result: BrowserResult, image?: OutboxImage): Promise<void> {
    const entry: Omit<OutboxEntry, 'seq'> = { frameId: result.frameId, line: this.#o.line, station: this.#o.station, result, state: 'pending', addedAt: this.#o.now() }
    if (image) entry.image = image
    await this.#o.store.add(entry)
    await this.#refreshCounts()
    void this.pump()
  }

  /** The link is usable (welcome received). */
  online(): void {
    this.#online = true
    this.#restart()
    void this.pump()
  }

  /** The link is gone: whatever was in flight is sent again on the next connection. */
  offline(): void {
    this.#online = false
    this.#restart()
  }

  /** Feeds the server's acks; those of other frames are ignored. */
  onAck(ack: Pick<AckMessage, 'frameId' | 'status' | 'error'>): void {
    if (!this.#inFlight.has(ack.frameId)) return
    if (ack.status === 'recorded') return void this.#settle(ack.frameId, () => this.#o.store.remove(ack.frameId))
    if (ack.status === 'accepted') return
    this.#refused(ack.frameId, ack.error ?? { code: ack.status, message: `the server answered ${ack.status}` })
  }

  /** An `error` message echoing the id of a browser-result (its id is the frame id). */
  onError(id: string, error: WireError): void {
    if (this.#inFlight.has(id)) this.#refused(id, error)
  }

  /** Resends what was not answered in time; call about once a second. */
  tick(): void {
    const now = this.#o.now()
    for (const f of this.#inFlight.values()) {
      if (now - f.sentAt >= this.#o.answerTimeoutMs) {
        this.#restart()
        break
      }
    }
    void this.pump()
  }

  #refused(frameId: string, error: WireError): void {
    if (RETRYABLE.has(error.code)) {
      this.#retryAt = this.#o.now() + this.#o.retryDelayMs
      this.#restart()
      return
    }
    this.#o.onError({ code: error.code, message: `result of frame ${frameId} refused by the server: ${error.message}` })
    void this.#settle(frameId, () => this.#o.store.reject(frameId, error))
  }

  async #settle(frameId: string, change: () => Promise<void>): Promise<void> {
    this.#inFlight.delete(frameId)
    try {
      await change()
      await this.#refreshCounts()
    } catch (e) {
      this.#o.onError({ code: 'outbox_failed', message: (e as Error).message })
    }
    void this.pump()
  }

  /** Starts again from the oldest pending entry; keeps replay in order after any hiccup. */
  #restart(): void {
    this.#inFlight.clear()
    this.#cursor = 0
  }

  async #refreshCounts(): Promise<void> {
    this.#counts = await this.#o.store.counts(this.#o.line, this.#o.station)
    this.#o.onCounts(this.#counts)
  }

  /** Sends as many pending entries as the window allows, oldest first. */
  pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true
      return this.#pumping
    }
    this.#pumping = (async () => {
      try {
        do {
          this.#again = false
          await this.#fill()
        } while (this.#again)
      } catch (e) {
        this.#o.onError({ code: 'outbox_failed', message: (e as Error).message })
      } finally {
        this.#pumping = null
      }
    })()
    return this.#pumping
  }

  async #fill(): Promise<void> {
    if (!this.#online || this.#o.now() < this.#retryAt) return
    const room = this.#o.maxInFlight - this.#inFlight.size
    if (room <= 0) return
    const next = await this.#o.store.pending(this.#o.line, this.#o.station, this.#cursor, room)
    for (const entry of next) {
      if (!this.#online || this.#inFlight.has(entry.frameId)) continue
      if (!this.#o.send(entry)) {
        this.#online = false
        return
      }
      this.#inFlight.set(entry.frameId, { seq: entry.seq, sentAt: this.#o.now() })
      this.#cursor = entry.seq
    }
  }
}
