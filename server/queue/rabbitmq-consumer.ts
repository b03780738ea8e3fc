/**
 * A frame consumer on RabbitMQ: one channel, two broker consumers (live with `prefetch`, batch
 * with 1) and a local scheduler that gives the handler at most `prefetch` deliveries at once.
 *
 * Live before batch: quorum queues have no priorities, so the scheduler decides. A live delivery
 * always goes first. A batch delivery starts only when no live one waits here, no other batch
 * one runs here, and a basic.get on the live queue came back empty (a live frame it returns is
 * run as a live delivery); every live arrival voids that answer. So a batch frame starts ahead
 * of a live one only when the live one is published during that round trip. At most one batch
 * frame runs per consumer: a live frame waits at most for one batch frame, and only when all
 * `prefetch` slots are taken. (In a cluster, deliveries may come through another node than the
 * get's answer, which widens that window slightly.)
 *
 * pause() cancels both broker consumers; deliveries already received but not started wait here
 * for resume() (handing them back would use up one of their attempts). close() cancels, runs what
 * was received (what a paused consumer holds goes back to the broker), waits for every handler,
 * then closes the channel.
 */
import type { AsyncMessage, Channel, Connection, SyncMessage } from 'rabbitmq-client'
import { decodeFrame, type IncomingFrame } from './amqp-message.ts'
import type { BlobStore } from './blobs.ts'
import { type Outcome, runHandler, SettleOnceDelivery, transferable } from './delivery.ts'
import { errorMessage, QueueError, type QueueErrorReporter } from './errors.ts'
import { KeptChannel } from './kept-channel.ts'
import { Ring } from './ring.ts'
import { declareTopology, type TopologyNames, type TopologyOptions } from './topology.ts'
import { type Consumer, type DeadLetterReason, type Delivery, type Priority, QueueClosedError } from './types.ts'

export interface RabbitConsumerDeps {
  conn: Connection
  topology: TopologyOptions
  names: TopologyNames
  blobs: BlobStore
  /** Re-sends a delivered frame to the dead-letter exchange, under confirms, with why. */
  deadLetter(msg: AsyncMessage | SyncMessage, reason: DeadLetterReason, error: string | undefined): Promise<void>
  /** This process's count of deliveries handed out and not settled changed by `delta`. */
  unacked(delta: number): void
  report: QueueErrorReporter
}

interface Received {
  msg: AsyncMessage | SyncMessage
  ch: Channel
  priority: Priority
}

export class RabbitConsumer implements Consumer {
  readonly #kept: KeptChannel
  readonly #live = new Ring<Received>()
  readonly #batch = new Ring<Received>()
  readonly #running = new Set<Promise<void>>()
  #tags: string[] = []
  #inFlight = 0
  #batchInFlight = 0
  #paused = false
  #closing: Promise<void> | undefined
  /** Live frames received so far: a get's "empty" counts only if none arrived meanwhile. */
  #liveSeen = 0
  #checking = false

  constructor(
    private readonly deps: RabbitConsumerDeps,
    private readonly handler: (d: Delivery) => Promise<void>,
    private readonly prefetch: number,
  ) {
    this.#kept = new KeptChannel(deps.conn, {
      name: 'frame consumer',
      report: deps.report,
      setup: (ch) => this.#setup(ch),
      onLost: () => this.#lost(),
    })
  }

  /** Resolves once the first attempt to start consuming has finished (a failure is retried). */
  start(): Promise<void> {
    this.#kept.start()
    return this.#kept.firstAttempt()
  }

  get paused(): boolean {
    return this.#paused
  }

  async pause(): Promise<void> {
    if (this.#paused) return
    this.#paused = true
    await this.#cancel()
  }

  async resume(): Promise<void> {
    if (this.#closing) throw new QueueClosedError('this consumer is closed')
    if (!this.#paused) return
    this.#paused = false
    const ch = this.#kept.channel
    // without a channel, the next setup consumes
    if (ch) await this.#consumeOn(ch)
    this.#pump()
  }

  close(): Promise<void> {
    this.#closing ??= this.#drain()
    return this.#closing
  }

  async #drain(): Promise<void> {
    await this.#cancel()
    // deliveries received before cancel-ok reach us on setImmediate
    await new Promise((resolve) => setImmediate(resolve))
    if (!this.#paused) this.#pump()
    while (this.#running.size > 0) {
      await Promise.all(this.#running)
      if (!this.#paused) this.#pump()
    }
    await this.#kept.close()
  }

  async #setup(ch: Channel): Promise<void> {
    await declareTopology(ch, this.deps.topology)
    this.#tags = []
    if (!this.#paused && !this.#closing) await this.#consumeOn(ch)
  }

  async #consumeOn(ch: Channel): Promise<void> {
    // a per-consumer prefetch applies to the consumers started after it on the channel
    await ch.basicQos({ prefetchCount: this.prefetch })
    const live = await ch.basicConsume({ queue: this.deps.names.queues.live }, (msg) => this.#received(ch, 'live', msg))
    await ch.basicQos({ prefetchCount: 1 })
    const batch = await ch.basicConsume({ queue: this.deps.names.queues.batch }, (msg) => this.#received(ch, 'batch', msg))
    this.#tags = [live.consumerTag, batch.consumerTag]
  }

  async #cancel(): Promise<void> {
    const ch = this.#kept.channel
    const tags = this.#tags
    this.#tags = []
    if (!ch) return
    for (const tag of tags) await ch.basicCancel({ consumerTag: tag })
  }

  #received(ch: Channel, priority: Priority, msg: AsyncMessage | SyncMessage): void {
    if (priority === 'live') {
      this.#liveSeen++
      this.#live.push({ msg, ch, priority })
    } else {
      this.#batch.push({ msg, ch, priority })
    }
    this.#pump()
  }

  /** The channel is gone and the broker takes back what it had delivered on it. */
  #lost(): void {
    this.#live.filter(() => false)
    this.#batch.filter(() => false)
    this.#tags = []
  }

  #pump(): void {
    if (this.#paused) return
    while (this.#inFlight < this.prefetch) {
      const live = this.#live.shift()
      if (live) {
        this.#start(live)
        continue
      }
      if (this.#batch.size === 0 || this.#batchInFlight > 0) return
      // a closing consumer gets no more live frames: what it holds can run in any order
      if (this.#closing) {
        this.#start(this.#batch.shift() as Received)
        continue
      }
      this.#checkLive()
      return
    }
  }

  /**
   * Asks the live queue for one frame with basic.get before a batch frame may start. The queue
   * answers in the order it applies commands, and it sends any live delivery it made for us before
   * that answer (one sender, one receiver: Erlang keeps the order), so "empty" means no live frame
   * waits there or is on its way. The answer is used at once or not at all: once a live frame is
   * acked, the next one may already be on its way.
   */
  #checkLive(): void {
    const ch = this.#kept.channel
    if (this.#checking || !ch) return
    this.#checking = true
    const seen = this.#liveSeen
    void ch.basicGet({ queue: this.deps.names.queues.live }).then(
      async (msg) => {
        // rabbitmq-client hands deliveries over on setImmediate but answers a get in a microtask:
        // one macrotask later every delivery that arrived before the answer has been received
        await new Promise((resolve) => setImmediate(resolve))
        this.#checking = false
        if (msg) return this.#received(ch, 'live', msg)
        const clear = seen === this.#liveSeen && !this.#paused && ch.active
        if (clear && this.#inFlight < this.prefetch && this.#batchInFlight === 0 && this.#batch.size > 0) this.#start(this.#batch.shift() as Received)
        this.#pump()
      },
      (err: unknown) => {
        this.#checking = false
        // a get cut off by our own close() is expected; any other failure means the channel closed
        // under it, and the next setup starts over
        if (!this.#closing) this.deps.report(err, 'frame consumer: asking the live queue')
      },
    )
  }

  #start(r: Received): void {
    this.#inFlight++
    if (r.priority === 'batch') this.#batchInFlight++
    this.deps.unacked(1)
    const run = this.#run(r).finally(() => this.#running.delete(run))
    this.#running.add(run)
  }

  async #run(r: Received): Promise<void> {
    const frame = decodeFrame(r.msg, r.priority)
    let freed = false
    const free = () => {
      if (freed) return
      freed = true
      this.#inFlight--
      if (r.priority === 'batch') this.#batchInFlight--
      this.deps.unacked(-1)
      this.#pump()
    }
    frame.message.body = transferable(frame.message.body)
    if (frame.blobRef) {
      try {
        frame.message.body = transferable(await this.deps.blobs.get(frame.blobRef))
      } catch (err) {
        // without its bytes no attempt can succeed
        await this.#settle(r, frame, { ack: false, requeue: false, reason: errorMessage(err) })
          .catch((e: unknown) => this.deps.report(e, `dead-lettering frame ${frame.message.id}`))
          .finally(free)
        return
      }
    }
    const delivery = new SettleOnceDelivery(frame.message, frame.priority, frame.attempt, (outcome) => this.#settle(r, frame, outcome).finally(free))
    await runHandler(this.handler, delivery, this.deps.report)
  }

  async #settle(r: Received, frame: IncomingFrame, outcome: Outcome): Promise<void> {
    const { ch, msg } = r
    const lost = () => new QueueError('settle_failed', `the channel that delivered frame ${frame.message.id} closed before it was settled; the broker delivers it again`)
    if (!ch.active) throw lost()
    if (outcome.ack) {
      ch.basicAck({ deliveryTag: msg.deliveryTag })
      if (frame.blobRef) await this.deps.blobs.delete(frame.blobRef).catch((err: unknown) => this.deps.report(err, `deleting the blob of frame ${frame.message.id} (the sweep will)`))
      return
    }
    if (outcome.requeue && frame.attempt < this.deps.topology.deliveryLimit) {
      ch.basicNack({ deliveryTag: msg.deliveryTag, requeue: true })
      return
    }
    // dead-lettered here rather than by the broker because only here is the error known
    await this.deps.deadLetter(msg, outcome.requeue ? 'delivery-limit' : 'rejected', outcome.reason)
    if (!ch.active) throw lost()
    ch.basicAck({ deliveryTag: msg.deliveryTag })
  }
}
