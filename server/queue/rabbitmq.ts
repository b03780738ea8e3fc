/**
 * The frame queue on RabbitMQ (AMQP_URL set). Semantics: types.ts, the same as the embedded queue
 * (test/contracts/queue.ts runs against both). Topology: topology.ts. Consumers: rabbitmq-consumer.ts.
 * Dead letters: rabbitmq-dead-letters.ts. Large frames: blobs.ts.
 *
 * Where the broker differs from the embedded queue:
 *  - the maximum length is exact for publishes one after the other, but a quorum queue learns it is
 *    over its limit after the fact: frames published concurrently into a nearly full queue are all
 *    taken (20 at once into room for 10 were all confirmed), and once over, it refuses until it is
 *    back under 80% of the limit. Every publish still either confirms or rejects: none vanish;
 *  - `depth().unacked` counts this process's deliveries only (the broker reports ready counts);
 *  - a handler's error travels with a frame only when this process dead-letters it (nack without
 *    requeue, or a nack on the last attempt); a worker that dies on the last attempt leaves the
 *    broker to dead-letter it, with reason `delivery-limit` and no error.
 */
import { join } from 'node:path'
import { Connection } from 'rabbitmq-client'
import type { Config } from '../config/index.ts'
import { asBuffer, deadLetterEnvelope, frameEnvelope } from './amqp-message.ts'
import { type BlobStore, FsBlobStore } from './blobs.ts'
import { QueueError, reportToConsole, type QueueErrorReporter } from './errors.ts'
import { ConfirmPublisher } from './publisher.ts'
import { RabbitConsumer } from './rabbitmq-consumer.ts'
import { RabbitDeadLetters } from './rabbitmq-dead-letters.ts'
import { asTopologyError, declareTopology, frameRoutingKey, topologyDeclarations, topologyNames, type TopologyNames, type TopologyOptions } from './topology.ts'
import {
  type ConsumeOptions,
  type Consumer,
  type DeadLetter,
  type Delivery,
  type FrameQueue,
  type PublishOptions,
  type QueueDepth,
  type QueueMessage,
  QueueClosedError,
  QueueFullError,
} from './types.ts'

export interface RabbitQueueOptions extends TopologyOptions {
  url: string
  liveTtlMs: number
  /** Bodies over this many bytes go to `blobs` (`QUEUE_INLINE_MAX_BYTES`). */
  inlineMaxBytes: number
  blobs: BlobStore
  /** Longest a publish waits, reconnects included (`QUEUE_PUBLISH_TIMEOUT_MS`). */
  publishTimeoutMs: number
  /** Shown in the broker's connection list. */
  connectionName?: string
  onError?: QueueErrorReporter
}

export function rabbitOptionsFromConfig(config: Config): RabbitQueueOptions {
  if (!config.amqpUrl) throw new QueueError('unavailable', 'AMQP_URL is not set')
  return {
    url: config.amqpUrl,
    prefix: 'linesight',
    maxLength: { live: config.queueMaxLength, batch: config.batchQueueMaxLength },
    deliveryLimit: config.deliveryLimit,
    deadLetterMax: config.queueDeadLetterMax,
    liveTtlMs: config.liveFrameTtlMs,
    inlineMaxBytes: config.queueInlineMaxBytes,
    blobs: new FsBlobStore(config.queueBlobDir ?? join(config.dataDir, 'queue-blobs')),
    publishTimeoutMs: config.queuePublishTimeoutMs,
    connectionName: `linesight ${config.role} ${process.pid}`,
  }
}

const EMPTY = Buffer.alloc(0)

export class RabbitQueue implements FrameQueue {
  readonly kind = 'rabbitmq' as const
  readonly #conn: Connection
  readonly #names: TopologyNames
  readonly #publisher: ConfirmPublisher
  readonly #deadLetters: RabbitDeadLetters
  readonly #consumers = new Set<RabbitConsumer>()
  readonly #publishing = new Set<Promise<void>>()
  readonly #report: QueueErrorReporter
  #unacked = 0
  #closed = false

  /** Connects and declares the topology; rejects when the broker refuses it (`topology_mismatch`). */
  static async connect(opts: RabbitQueueOptions): Promise<RabbitQueue> {
    const q = new RabbitQueue(opts)
    try {
      const ch = await q.#conn.acquire()
      try {
        await declareTopology(ch, opts)
      } finally {
        if (ch.active) await ch.close()
      }
    } catch (err) {
      q.#conn.unsafeDestroy()
      throw err instanceof QueueError ? err : new QueueError('unavailable', `RabbitMQ setup failed: ${(err as Error).message}`, { cause: err })
    }
    return q
  }

  private constructor(private readonly opts: RabbitQueueOptions) {
    this.#report = opts.onError ?? reportToConsole
    this.#names = topologyNames(opts.prefix)
    this.#conn = new Connection({
      url: opts.url,
      connectionName: opts.connectionName ?? 'linesight',
      // a channel request (and so a publish) waits this long for a lost connection to come back
      acquireTimeout: opts.publishTimeoutMs,
      retryLow: 100,
      retryHigh: 5000,
      // a dead peer is noticed in ~10 s instead of the default 60
      heartbeat: 10,
      frameMax: 131072,
    })
    this.#conn.on('error', (err: unknown) => this.#report(err, 'RabbitMQ connection'))
    const d = topologyDeclarations(opts)
    this.#publisher = new ConfirmPublisher(this.#conn, { exchanges: d.exchanges, queues: d.queues, queueBindings: d.bindings }, opts.publishTimeoutMs)
    this.#deadLetters = new RabbitDeadLetters({
      conn: this.#conn,
      names: this.#names,
      topology: opts,
      blobs: opts.blobs,
      publisher: this.#publisher,
      liveTtlMs: opts.liveTtlMs,
      report: this.#report,
    })
  }

  publish(message: QueueMessage, opts: PublishOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new QueueClosedError('the RabbitMQ queue is closed'))
    const publishing = this.#publish(message, opts)
    this.#publishing.add(publishing)
    const forget = () => this.#publishing.delete(publishing)
    void publishing.then(forget, forget)
    return publishing
  }

  async #publish(message: QueueMessage, opts: PublishOptions): Promise<void> {
    const { priority } = opts
    if (priority !== 'live' && priority !== 'batch') throw new TypeError(`unknown priority ${String(priority)}`)
    const ttl = priority === 'live' ? Math.min(opts.ttlMs ?? Infinity, this.opts.liveTtlMs) : opts.ttlMs
    const line = typeof message.headers.line === 'string' ? message.headers.line : 'unknown'
    let body = asBuffer(message.body)
    let blobRef: string | undefined
    if (body.byteLength > this.opts.inlineMaxBytes) {
      blobRef = await this.opts.blobs.put(body)
      body = EMPTY
    }
    const envelope = frameEnvelope(message, priority, {
      exchange: this.#names.frames,
      routingKey: frameRoutingKey(priority, line),
      ...(ttl !== undefined && Number.isFinite(ttl) ? { expirationMs: ttl } : {}),
      ...(blobRef ? { blobRef } : {}),
    })
    try {
      await this.#publisher.send(envelope, body)
    } catch (err) {
      const code = (err as { code?: string }).code
      const refused = code === 'NACK' || code === 'unroutable'
      // only a refusal proves the broker has no message pointing at the blob
      if (blobRef && refused) await this.opts.blobs.delete(blobRef).catch((e: unknown) => this.#report(e, `deleting the blob of refused frame ${message.id}`))
      if (code === 'NACK') throw new QueueFullError(priority, this.opts.maxLength[priority])
      throw asTopologyError(err, this.#names.queues[priority])
    }
  }

  async consume(handler: (delivery: Delivery) => Promise<void>, opts: ConsumeOptions): Promise<Consumer> {
    if (this.#closed) throw new QueueClosedError('the RabbitMQ queue is closed')
    if (!Number.isInteger(opts.prefetch) || opts.prefetch < 1) throw new RangeError(`prefetch must be a positive integer, got ${opts.prefetch}`)
    const consumer = new RabbitConsumer(
      {
        conn: this.#conn,
        topology: this.opts,
        names: this.#names,
        blobs: this.opts.blobs,
        deadLetter: async (msg, reason, error) => {
          const { envelope, body } = deadLetterEnvelope(msg, this.#names.dead, reason, error)
          await this.#publisher.send(envelope, body)
        },
        unacked: (delta) => {
          this.#unacked += delta
        },
        report: this.#report,
      },
      handler,
      opts.prefetch,
    )
    this.#consumers.add(consumer)
    await consumer.start()
    return {
      get paused() {
        return consumer.paused
      },
      pause: () => consumer.pause(),
      resume: () => consumer.resume(),
      close: async () => {
        await consumer.close()
        this.#consumers.delete(consumer)
      },
    }
  }

  async depth(): Promise<QueueDepth> {
    const count = async (queue: string) => (await this.#conn.queueDeclare({ queue, passive: true })).messageCount
    const [live, batch, deadLetters] = await Promise.all([count(this.#names.queues.live), count(this.#names.queues.batch), count(this.#names.deadLetters)])
    return { live, batch, unacked: this.#unacked, deadLetters }
  }

  listDeadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.#deadLetters.list(limit)
  }

  requeueDeadLetter(id: string): Promise<boolean> {
    return this.#deadLetters.requeue(id)
  }

  discardDeadLetter(id: string): Promise<boolean> {
    return this.#deadLetters.discard(id)
  }

  onDeadLetter(listener: (d: DeadLetter) => unknown): () => void {
    return this.#deadLetters.onDeadLetter(listener)
  }

  isReady(): boolean {
    return !this.#closed && this.#conn.ready
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // publishes under way get their confirm (or their error) before the channel goes
    await Promise.allSettled([...this.#publishing])
    await Promise.all([...this.#consumers].map((c) => c.close()))
    await this.#deadLetters.close()
    await this.#publisher.close()
    await this.#conn.close()
  }
}
