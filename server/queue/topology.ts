/**
 * The RabbitMQ topology of the frame queue. Every process declares all of it whenever it opens a
 * channel (a declaration with the same arguments is a no-op), so any process may start first and a
 * broker that lost its definitions gets them back on reconnect.
 *
 *   <p>.frames (topic) --line.<line>---> <p>.frames.live   (quorum) --+
 *                      --batch.<line>--> <p>.frames.batch  (quorum) --+-- dead-lettered --> <p>.dead (topic)
 *   <p>.dead --#--> <p>.dead-letters        (kept for listing, requeue, discard)
 *           --#--> <p>.dead-letter-events  (one copy for whichever process runs onDeadLetter listeners)
 *
 * Quorum queues rather than classic ones: they count deliveries (a worker that crashes on a frame
 * uses up an attempt; classic queues in 3.10 only flag a redelivery), replicate in a cluster and
 * dead-letter at-least-once. bench/queue/queue-types.ts measured the throughput cost.
 */
import type { Channel, MethodParams, Cmd } from 'rabbitmq-client'
import { QueueError } from './errors.ts'
import type { Priority } from './types.ts'

export interface TopologyOptions {
  /** Name prefix of every exchange and queue; several deployments can share a vhost. */
  prefix: string
  maxLength: Record<Priority, number>
  deliveryLimit: number
  deadLetterMax: number
}

export interface TopologyNames {
  frames: string
  queues: Record<Priority, string>
  dead: string
  deadLetters: string
  deadLetterEvents: string
}

export function topologyNames(prefix: string): TopologyNames {
  return {
    frames: `${prefix}.frames`,
    queues: { live: `${prefix}.frames.live`, batch: `${prefix}.frames.batch` },
    dead: `${prefix}.dead`,
    deadLetters: `${prefix}.dead-letters`,
    deadLetterEvents: `${prefix}.dead-letter-events`,
  }
}

/** Topic words are separated by dots, which ids may contain. Ids never contain `%`. */
export const routingWord = (id: string) => id.replaceAll('.', '%2E')

export const frameRoutingKey = (priority: Priority, line: string) => `${priority === 'live' ? 'line' : 'batch'}.${routingWord(line)}`

type QueueDeclare = MethodParams[Cmd.QueueDeclare]
type ExchangeDeclare = MethodParams[Cmd.ExchangeDeclare]
type QueueBind = MethodParams[Cmd.QueueBind]

export interface TopologyDeclarations {
  exchanges: ExchangeDeclare[]
  queues: QueueDeclare[]
  bindings: QueueBind[]
}

type QueueArguments = NonNullable<QueueDeclare['arguments']>

export function frameQueueArguments(opts: TopologyOptions, priority: Priority): QueueArguments {
  const names = topologyNames(opts.prefix)
  return {
    'x-queue-type': 'quorum',
    // rabbit_fifo refuses publishes once messages_ready > x-max-length, i.e. it takes one more
    // than the argument says; the setting means "frames that may wait"
    'x-max-length': Math.max(0, opts.maxLength[priority] - 1),
    'x-overflow': 'reject-publish',
    // the broker counts returns, not deliveries: limit - 1 returns means `limit` deliveries
    'x-delivery-limit': opts.deliveryLimit - 1,
    'x-dead-letter-exchange': names.dead,
    // needs reject-publish; without it a dead letter is lost when the broker fails mid-way
    'x-dead-letter-strategy': 'at-least-once',
  }
}

export function topologyDeclarations(opts: TopologyOptions): TopologyDeclarations {
  const n = topologyNames(opts.prefix)
  const keep: QueueArguments = { 'x-queue-type': 'quorum', 'x-max-length': opts.deadLetterMax, 'x-overflow': 'drop-head' }
  return {
    exchanges: [
      { exchange: n.frames, type: 'topic', durable: true },
      { exchange: n.dead, type: 'topic', durable: true },
    ],
    queues: [
      { queue: n.queues.live, durable: true, arguments: frameQueueArguments(opts, 'live') },
      { queue: n.queues.batch, durable: true, arguments: frameQueueArguments(opts, 'batch') },
      { queue: n.deadLetters, durable: true, arguments: keep },
      { queue: n.deadLetterEvents, durable: true, arguments: keep },
    ],
    bindings: [
      { queue: n.queues.live, exchange: n.frames, routingKey: 'line.#' },
      { queue: n.queues.batch, exchange: n.frames, routingKey: 'batch.#' },
      { queue: n.deadLetters, exchange: n.dead, routingKey: '#' },
      { queue: n.deadLetterEvents, exchange: n.dead, routingKey: '#' },
    ],
  }
}

/** Declares everything on `ch`; a queue that exists with other arguments becomes `topology_mismatch`. */
export async function declareTopology(ch: Channel, opts: TopologyOptions): Promise<void> {
  const d = topologyDeclarations(opts)
  for (const e of d.exchanges) await ch.exchangeDeclare(e)
  for (const q of d.queues) {
    try {
      await ch.queueDeclare(q)
    } catch (err) {
      throw asTopologyError(err, q.queue ?? '')
    }
  }
  for (const b of d.bindings) await ch.queueBind(b)
}

export function asTopologyError(err: unknown, queue: string): unknown {
  if ((err as { code?: string }).code !== 'PRECONDITION_FAILED') return err
  return new QueueError(
    'topology_mismatch',
    `queue ${queue} exists with other arguments than this process declares (QUEUE_MAX_LENGTH, BATCH_QUEUE_MAX_LENGTH, QUEUE_DELIVERY_LIMIT, QUEUE_DEAD_LETTER_MAX must match across processes; after changing one, delete the queue once it is drained): ${(err as Error).message}`,
    { cause: err },
  )
}
