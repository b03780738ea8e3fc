/**
 * Dead letters on RabbitMQ. Every dead-lettered frame (by the broker: delivery limit, TTL; or by a
 * consumer that had an error to record) is routed by the dead-letter exchange to two queues:
 *
 *  - `<p>.dead-letters` keeps them for the admin (at most QUEUE_DEAD_LETTER_MAX, oldest dropped).
 *    Listing reads all of them with basic.get and never acks: one nack hands them all back, in
 *    order, so listing loses nothing (and moves every dead letter over the wire: an admin
 *    operation, bounded by the maximum). Requeue and discard read in the same way, ack the one
 *    message with the id (after a confirmed republish, for requeue) and hand back the rest.
 *    Reads are serialized in this process; a second process reading at the same moment sees
 *    fewer (those this one holds are invisible for the instant it holds them).
 *  - `<p>.dead-letter-events` feeds `onDeadLetter`: one copy per dead letter, consumed by whichever
 *    process runs listeners (processes compete for it), so a dead letter is counted and booked once
 *    across all gateways and workers, and no process receives every frame's bytes twice.
 */
import type { Channel, Connection, Consumer as AmqpConsumer, SyncMessage } from 'rabbitmq-client'
import { decodeDeadLetter, type IncomingDeadLetter, requeueEnvelope } from './amqp-message.ts'
import type { BlobStore } from './blobs.ts'
import { errorMessage, type QueueErrorReporter } from './errors.ts'
import type { ConfirmPublisher } from './publisher.ts'
import { topologyDeclarations, type TopologyNames, type TopologyOptions } from './topology.ts'
import { type DeadLetter, QueueFullError } from './types.ts'

export interface RabbitDeadLettersDeps {
  conn: Connection
  names: TopologyNames
  topology: TopologyOptions
  blobs: BlobStore
  publisher: ConfirmPublisher
  liveTtlMs: number
  report: QueueErrorReporter
}

export class RabbitDeadLetters {
  #lock: Promise<unknown> = Promise.resolve()
  #ch: Channel | undefined
  #events: AmqpConsumer | undefined
  readonly #listeners = new Set<(d: DeadLetter) => unknown>()

  constructor(private readonly deps: RabbitDeadLettersDeps) {}

  list(limit: number): Promise<DeadLetter[]> {
    return this.#browse(async (all) => {
      const out: DeadLetter[] = []
      for (const msg of all.slice(0, limit)) out.push(await this.#withBytes(decodeDeadLetter(msg)))
      return out
    })
  }

  /** Republishes the dead letter `id` as a new frame (fresh attempts and TTL); false when absent. */
  requeue(id: string): Promise<boolean> {
    return this.#take(id, async (ack, msg, dl) => {
      const ttl = dl.dead.priority === 'live' ? this.deps.liveTtlMs : undefined
      const { envelope, body } = requeueEnvelope(msg, this.deps.names.frames, ttl)
      // the publish is confirmed before the ack: a failure leaves the dead letter in place
      try {
        await this.deps.publisher.send(envelope, body)
      } catch (err) {
        const p = dl.dead.priority
        if ((err as { code?: string }).code === 'NACK') throw new QueueFullError(p, this.deps.topology.maxLength[p])
        throw err
      }
      ack(msg)
    })
  }

  discard(id: string): Promise<boolean> {
    return this.#take(id, async (ack, msg, dl) => {
      ack(msg)
      if (dl.blobRef) await this.deps.blobs.delete(dl.blobRef)
    })
  }

  onDeadLetter(listener: (d: DeadLetter) => unknown): () => void {
    this.#listeners.add(listener)
    this.#events ??= this.#consumeEvents()
    return () => this.#listeners.delete(listener)
  }

  async close(): Promise<void> {
    await this.#events?.close()
    await this.#lock
    if (this.#ch?.active) await this.#ch.close()
  }

  #take(id: string, settle: (ack: (msg: SyncMessage) => void, msg: SyncMessage, dl: IncomingDeadLetter) => Promise<void>): Promise<boolean> {
    return this.#browse(async (all, ack) => {
      const msg = all.find((m) => m.messageId === id)
      if (!msg) return false
      await settle(ack, msg, decodeDeadLetter(msg))
      return true
    })
  }

  /**
   * Runs `fn` on every dead letter, oldest first, one browse at a time. They are read to the end
   * (bounded by what the queue can hold) and handed back with one nack on the same channel, which
   * the queue applies before the next browse's first read; handing back only a part would move
   * that part behind the rest (a quorum queue puts returned messages at its back).
   */
  #browse<T>(fn: (all: SyncMessage[], ack: (msg: SyncMessage) => void) => Promise<T>): Promise<T> {
    const run = this.#lock.then(async () => {
      if (!this.#ch?.active) this.#ch = await this.deps.conn.acquire()
      const ch = this.#ch
      const held = new Set<number>()
      const all: SyncMessage[] = []
      try {
        // dead letters keep arriving while we read: stop after as many as the queue can hold
        for (let i = 0; i < this.deps.topology.deadLetterMax + 1000; i++) {
          const msg = await ch.basicGet({ queue: this.deps.names.deadLetters })
          if (!msg) break
          held.add(msg.deliveryTag)
          all.push(msg)
        }
        return await fn(all, (msg) => {
          ch.basicAck({ deliveryTag: msg.deliveryTag })
          held.delete(msg.deliveryTag)
        })
      } finally {
        // "multiple" covers every unacked tag up to this one, which must itself be unacked
        if (held.size > 0 && ch.active) ch.basicNack({ deliveryTag: Math.max(...held), multiple: true, requeue: true })
      }
    })
    this.#lock = run.catch(() => undefined) // the caller gets the error; the next browse still runs
    return run
  }

  async #withBytes(dl: IncomingDeadLetter): Promise<DeadLetter> {
    if (!dl.blobRef) return dl.dead
    try {
      return { ...dl.dead, message: { ...dl.dead.message, body: await this.deps.blobs.get(dl.blobRef) } }
    } catch (err) {
      this.deps.report(err, `reading the bytes of dead letter ${dl.dead.message.id}`)
      return { ...dl.dead, error: `${dl.dead.error ?? dl.dead.reason}; bytes unavailable: ${errorMessage(err)}` }
    }
  }

  #consumeEvents(): AmqpConsumer {
    const events = topologyDeclarations(this.deps.topology).queues.find((q) => q.queue === this.deps.names.deadLetterEvents)
    const consumer = this.deps.conn.createConsumer(
      {
        queue: this.deps.names.deadLetterEvents,
        // the same declaration as everywhere else: a no-op where it exists, a fix where it was lost
        queueOptions: events,
        qos: { prefetchCount: 16 },
        // one at a time, so listeners see dead letters in the order they died
        concurrency: 1,
      },
      async (msg) => {
        const dead = await this.#withBytes(decodeDeadLetter(msg))
        for (const listener of this.#listeners) {
          try {
            const r = listener(dead)
            // not awaited (the event is the broker's, already durable); a failure is reported, never left unhandled
            if (typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') (r as PromiseLike<unknown>).then(undefined, (err: unknown) => this.deps.report(err, 'onDeadLetter listener'))
          } catch (err) {
            this.deps.report(err, 'onDeadLetter listener')
          }
        }
      },
    )
    consumer.on('error', (err: unknown) => this.deps.report(err, 'dead-letter events consumer'))
    return consumer
  }
}
