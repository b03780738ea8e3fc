/**
 * The in-process frame queue, used when AMQP_URL is unset. Frames wait by reference in one ring
 * buffer per priority, so publish and delivery are O(1); each delivery gets a copy of the bytes
 * (its handler may transfer them to a worker thread, and a requeue needs them again); one timer
 * per queue expires live frames. Semantics: types.ts; the shared suite: test/contracts/queue.ts.
 *
 * With a journal (journal.ts; the all-in-one process keeps one in the data folder) every frame is
 * also written to disk before `publish` resolves and replayed by the next process: an accepted
 * frame outlives a kill. Without one, and for a frame published with `durable: false` (its sender
 * keeps it: types.ts), frames live in this process's memory only.
 *
 * A frame whose id is already waiting or delivered is not queued twice: a station that resends a
 * frame after a reconnect gets the result of the copy already queued.
 */
import type { Config } from '../config/index.ts'
import { DeadLetterList } from './dead-letter-list.ts'
import { type Outcome, runHandler, SettleOnceDelivery } from './delivery.ts'
import { Lane, type Waiting } from './embedded-lane.ts'
import { reportToConsole, type QueueErrorReporter } from './errors.ts'
import { ExpirySweeper } from './expiry-sweeper.ts'
import type { QueueJournal } from './journal.ts'
import {
  type ConsumeOptions,
  type Consumer,
  type DeadLetter,
  type DeadLetterReason,
  type Delivery,
  type FrameQueue,
  type Priority,
  type PublishOptions,
  type QueueDepth,
  type QueueMessage,
  QueueClosedError,
  QueueFullError,
} from './types.ts'

export interface EmbeddedQueueOptions {
  /** Waiting frames per priority before publish rejects (`QUEUE_MAX_LENGTH`, `BATCH_QUEUE_MAX_LENGTH`). */
  maxLength: Record<Priority, number>
  /** Deliveries before a frame is dead-lettered (`QUEUE_DELIVERY_LIMIT`). */
  deliveryLimit: number
  /** TTL of every live frame (`LIVE_FRAME_TTL_MS`). */
  liveTtlMs: number
  /** Dead letters kept (`QUEUE_DEAD_LETTER_MAX`). */
  deadLetterMax: number
  onError?: QueueErrorReporter
  /** Where accepted frames are kept until acknowledged, and replayed from at start. */
  journal?: QueueJournal
}

export function embeddedOptionsFromConfig(config: Config): EmbeddedQueueOptions {
  return {
    maxLength: { live: config.queueMaxLength, batch: config.batchQueueMaxLength },
    deliveryLimit: config.deliveryLimit,
    liveTtlMs: config.liveFrameTtlMs,
    deadLetterMax: config.queueDeadLetterMax,
  }
}

export class EmbeddedQueue implements FrameQueue {
  readonly kind = 'embedded' as const
  readonly #lanes: Record<Priority, Lane> = { live: new Lane(), batch: new Lane() }
  readonly #consumers: EmbeddedConsumer[] = []
  readonly #dead: DeadLetterList
  readonly #listeners = new Set<(d: DeadLetter) => unknown>()
  readonly #sweeper = new ExpirySweeper((now) => Math.min(this.#lanes.live.sweep(now, this.#expire), this.#lanes.batch.sweep(now, this.#expire)))
  readonly #report: QueueErrorReporter
  /** Ids waiting or delivered and not yet settled. */
  readonly #present = new Set<string>()
  readonly #journal: QueueJournal | undefined
  /** Earliest expiry among replayed frames, armed once a consumer (and the dead-letter listeners) exist. */
  #replayedExpiry = Infinity
  /** Replayed frames whose runs used up the delivery limit: dead-lettered once someone listens. */
  #replayedSpent: Waiting[] = []
  #unacked = 0
  #nextConsumer = 0
  #pumping = false
  #closed = false

  constructor(private readonly opts: EmbeddedQueueOptions) {
    this.#dead = new DeadLetterList(opts.deadLetterMax)
    this.#report = opts.onError ?? reportToConsole
    this.#journal = opts.journal
    const now = Date.now()
    for (const w of this.#journal?.replay() ?? []) {
      this.#present.add(w.message.id)
      // A replayed live frame gets a full TTL from this start: its station was told `accepted` and
      // waits for a verdict; counting the restart against it would turn every frame of a restart
      // longer than LIVE_FRAME_TTL_MS into an `expired` error record.
      if (w.priority === 'live' && Number.isFinite(w.expiresAt)) w.expiresAt = Math.max(w.expiresAt, now + opts.liveTtlMs)
      if (w.attempts >= opts.deliveryLimit) {
        this.#replayedSpent.push(w)
        continue
      }
      this.#lanes[w.priority].push(w)
      this.#replayedExpiry = Math.min(this.#replayedExpiry, w.expiresAt)
    }
  }

  /** Frames replayed from the journal at start. */
  get replayed(): number {
    return this.#lanes.live.size + this.#lanes.batch.size + this.#replayedSpent.length
  }

  async publish(message: QueueMessage, opts: PublishOptions): Promise<void> {
    if (this.#closed) throw new QueueClosedError('the embedded queue is closed')
    const lane = this.#lanes[opts.priority]
    if (!lane) throw new TypeError(`unknown priority ${String(opts.priority)}`)
    if (this.#present.has(message.id)) return
    const max = this.opts.maxLength[opts.priority]
    if (lane.size >= max) throw new QueueFullError(opts.priority, max)
    const ttl = opts.priority === 'live' ? Math.min(opts.ttlMs ?? Infinity, this.opts.liveTtlMs) : (opts.ttlMs ?? Infinity)
    const expiresAt = Date.now() + ttl
    const journal = opts.durable === false ? undefined : this.#journal
    const w: Waiting = { message, priority: opts.priority, attempts: 0, expiresAt, journaled: journal !== undefined }
    // on disk before the caller is told it is queued; a write that fails (disk full) refuses the frame
    try {
      journal?.add(w)
    } catch (err) {
      this.#report(err, 'writing a frame to the queue journal (refused)')
      throw err
    }
    this.#present.add(message.id)
    lane.push(w)
    this.#sweeper.expect(expiresAt)
    this.#pump()
  }

  async consume(handler: (delivery: Delivery) => Promise<void>, opts: ConsumeOptions): Promise<Consumer> {
    if (this.#closed) throw new QueueClosedError('the embedded queue is closed')
    if (!Number.isInteger(opts.prefetch) || opts.prefetch < 1) throw new RangeError(`prefetch must be a positive integer, got ${opts.prefetch}`)
    const consumer = new EmbeddedConsumer(handler, opts.prefetch, {
      deliver: (c, w) => this.#deliver(c, w),
      pump: () => this.#pump(),
      remove: (c) => {
        const i = this.#consumers.indexOf(c)
        if (i >= 0) this.#consumers.splice(i, 1)
      },
      report: this.#report,
    })
    this.#consumers.push(consumer)
    this.#sweeper.expect(this.#replayedExpiry)
    this.#replayedExpiry = Infinity
    for (const w of this.#replayedSpent.splice(0)) this.#deadLetter(w, 'delivery-limit')
    this.#pump()
    return consumer
  }

  async depth(): Promise<QueueDepth> {
    return {
      live: this.#lanes.live.size,
      batch: this.#lanes.batch.size,
      unacked: this.#unacked,
      deadLetters: this.#dead.size,
      deadLettersEvicted: this.#dead.evicted,
    }
  }

  async listDeadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.#dead.list(limit)
  }

  async requeueDeadLetter(id: string): Promise<boolean> {
    const d = this.#dead.get(id)
    if (!d) return false
    // publish first: when the queue is full the dead letter stays where it is
    await this.publish(d.message, { priority: d.priority })
    this.#dead.delete(id)
    return true
  }

  async discardDeadLetter(id: string): Promise<boolean> {
    return this.#dead.delete(id)
  }

  onDeadLetter(listener: (d: DeadLetter) => unknown): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  isReady(): boolean {
    return !this.#closed
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#sweeper.stop()
    await Promise.all([...this.#consumers].map((c) => c.close()))
    this.#journal?.close()
  }

  #pump(): void {
    // a handler that settles synchronously re-enters here; the running loop picks up its capacity
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (;;) {
        const consumer = this.#pickConsumer()
        if (!consumer) return
        const now = Date.now()
        const w = this.#lanes.live.take(now, this.#expire) ?? this.#lanes.batch.take(now, this.#expire)
        if (!w) return
        consumer.run(w)
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Round robin over the consumers that can take one more delivery. */
  #pickConsumer(): EmbeddedConsumer | undefined {
    const n = this.#consumers.length
    for (let i = 0; i < n; i++) {
      const c = this.#consumers[(this.#nextConsumer + i) % n]
      if (c.hasCapacity()) {
        this.#nextConsumer = (this.#nextConsumer + i + 1) % n
        return c
      }
    }
    return undefined
  }

  #deliver(consumer: EmbeddedConsumer, w: Waiting): SettleOnceDelivery {
    w.attempts++
    this.#unacked++
    // a copy per delivery: the handler may transfer it away, and a requeue needs the bytes again
    const message: QueueMessage = { id: w.message.id, headers: w.message.headers, body: new Uint8Array(w.message.body) }
    return new SettleOnceDelivery(message, w.priority, w.attempts, async (outcome) => {
      this.#unacked--
      consumer.settled()
      this.#settle(w, outcome)
      this.#pump()
    })
  }

  #settle(w: Waiting, outcome: Outcome): void {
    if (outcome.ack) return this.#gone(w)
    if (outcome.reason !== undefined) w.lastError = outcome.reason
    if (!outcome.requeue) this.#deadLetter(w, 'rejected')
    else if (w.attempts >= this.opts.deliveryLimit) this.#deadLetter(w, 'delivery-limit')
    else {
      this.#lanes[w.priority].unshift(w)
      this.#sweeper.expect(w.expiresAt)
    }
  }

  readonly #expire = (w: Waiting): void => this.#deadLetter(w, 'expired')

  /** Acknowledged: no longer this queue's to deliver, nor the journal's to keep. */
  #gone(w: Waiting): void {
    this.#present.delete(w.message.id)
    if (w.journaled) this.#journal?.remove(w.message.id)
  }

  #deadLetter(w: Waiting, reason: DeadLetterReason): void {
    this.#present.delete(w.message.id)
    const d: DeadLetter = { message: w.message, priority: w.priority, reason, deadAt: Date.now() }
    if (w.lastError !== undefined) d.error = w.lastError
    this.#dead.add(d)
    const pending: PromiseLike<unknown>[] = []
    for (const listener of this.#listeners) {
      try {
        const r = listener(d)
        if (isThenable(r)) pending.push(r)
      } catch (err) {
        this.#report(err, 'onDeadLetter listener')
      }
    }
    const journal = w.journaled ? this.#journal : undefined
    if (!journal) return
    // The frame leaves the journal only once its error record is written: a kill before that
    // replays it and the next process dead-letters it again (the store keeps one record per frame
    // id). A listener that fails leaves it there for the next start to try again.
    const id = w.message.id
    if (pending.length === 0) return journal.remove(id)
    void Promise.all(pending).then(
      () => {
        // a resend of the same id may have been queued meanwhile: its row is the one now
        if (!this.#present.has(id)) journal.remove(id)
      },
      (err: unknown) => this.#report(err, `onDeadLetter listener (frame ${id} kept in the queue journal for the next start)`),
    )
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | undefined)?.then === 'function'
}

interface ConsumerHooks {
  deliver(c: EmbeddedConsumer, w: Waiting): SettleOnceDelivery
  pump(): void
  remove(c: EmbeddedConsumer): void
  report: QueueErrorReporter
}

class EmbeddedConsumer implements Consumer {
  #paused = false
  #closing = false
  #inFlight = 0
  #idle: (() => void)[] = []

  constructor(
    private readonly handler: (delivery: Delivery) => Promise<void>,
    private readonly prefetch: number,
    private readonly hooks: ConsumerHooks,
  ) {}

  get paused(): boolean {
    return this.#paused
  }

  hasCapacity(): boolean {
    return !this.#paused && !this.#closing && this.#inFlight < this.prefetch
  }

  run(w: Waiting): void {
    this.#inFlight++
    void runHandler(this.handler, this.hooks.deliver(this, w), this.hooks.report)
  }

  settled(): void {
    this.#inFlight--
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }

  async pause(): Promise<void> {
    this.#paused = true
  }

  async resume(): Promise<void> {
    if (this.#closing) throw new QueueClosedError('this consumer is closed')
    this.#paused = false
    this.hooks.pump()
  }

  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true
      this.hooks.remove(this)
    }
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve))
  }
}
