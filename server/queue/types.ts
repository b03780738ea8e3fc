/**
 * The queue contract. The embedded queue (`embedded.ts`) and the RabbitMQ transport
 * (`rabbitmq.ts`) both implement it and both pass the same suite (`test/contracts/queue.ts`).
 *
 * Semantics, the same for both:
 *  - two priorities: `live` frames are always served before `batch` frames (uploads);
 *  - `publish` resolves once the message is safely queued (the broker confirmed it) and rejects
 *    with `QueueFullError` when the queue is at its maximum length: nothing is dropped silently;
 *  - consumers get at most `prefetch` unacknowledged deliveries at once;
 *  - `nack({requeue: true})` redelivers; after `deliveryLimit` deliveries the message is
 *    dead-lettered with its reason instead; `nack({requeue: false})` dead-letters at once;
 *  - a live message older than its TTL is dead-lettered with reason `expired` instead of delivered.
 *
 * Details both engines share:
 *  - the maximum length counts messages waiting to be delivered, not those delivered and unacked;
 *  - a requeued message keeps its original TTL (where it goes in the line is the engine's choice);
 *  - a handler that resolves without settling its delivery acks it; one that rejects nacks it with
 *    `requeue: true` and the error's message as the reason (so a crash-looping frame still reaches
 *    the delivery limit); settling a delivery twice rejects with `QueueError('already_settled')`.
 */
export type Priority = 'live' | 'batch'

export type HeaderValue = string | number | boolean
export interface QueueMessage {
  /** Unique id (the frame id); dead letters are addressed by it. */
  id: string
  headers: Record<string, HeaderValue>
  /**
   * The frame bytes. In a delivery they are that delivery's own, spanning their whole
   * ArrayBuffer: the handler may transfer them to a worker thread, and a redelivery brings its
   * own copy.
   */
  body: Uint8Array
}

export interface PublishOptions {
  priority: Priority
  /**
   * Time to live in the queue, ms. Live frames always have one (`LIVE_FRAME_TTL_MS`); this can
   * only shorten it.
   */
  ttlMs?: number
  /**
   * `false`: the frame need not outlive this process, because its sender keeps it until the
   * outcome and sends it again if the answer never comes (`POST /api/v1/detect`: the caller is
   * answered with the result or an error, never with "accepted"). The embedded queue then keeps it
   * in memory only, not in its journal: a crash loses it, and the next process does not infer a
   * frame whose result nobody waits for (a record under a frame id its caller never saw). RabbitMQ's
   * quorum queues keep every message on disk whatever this says. Default `true`.
   */
  durable?: boolean
}

export interface Delivery {
  message: QueueMessage
  priority: Priority
  /** 1 on first delivery; never above the delivery limit. */
  attempt: number
  ack(): Promise<void>
  nack(opts: { requeue: boolean; reason?: string }): Promise<void>
}

export interface ConsumeOptions {
  prefetch: number
}

export interface Consumer {
  /** Stop taking new messages; in-flight ones finish. Messages keep queueing. */
  pause(): Promise<void>
  resume(): Promise<void>
  readonly paused: boolean
  /** Stop for good after in-flight deliveries are settled. */
  close(): Promise<void>
}

// `string & {}` keeps the known reasons visible to the editor while any broker reason passes
export type DeadLetterReason = 'expired' | 'delivery-limit' | 'rejected' | (string & {})

export interface DeadLetter {
  message: QueueMessage
  priority: Priority
  reason: DeadLetterReason
  /** Last error recorded for the message, if any. */
  error?: string
  deadAt: number
}

export interface QueueDepth {
  live: number
  batch: number
  /** Delivered and not yet acknowledged. */
  unacked: number
  /** Dead letters kept (listable, requeueable). */
  deadLetters: number
  /**
   * Dead letters dropped, oldest first, to keep the kept ones bounded. Absent where the
   * transport cannot tell (RabbitMQ drops them inside the broker).
   */
  deadLettersEvicted?: number
}

export interface FrameQueue {
  readonly kind: 'embedded' | 'rabbitmq'
  publish(message: QueueMessage, opts: PublishOptions): Promise<void>
  consume(handler: (delivery: Delivery) => Promise<void>, opts: ConsumeOptions): Promise<Consumer>
  depth(): Promise<QueueDepth>
  /** Oldest first, at most `limit` (default 100). */
  listDeadLetters(limit?: number): Promise<DeadLetter[]>
  /** Puts a dead letter back on its queue; false when no such dead letter. */
  requeueDeadLetter(id: string): Promise<boolean>
  discardDeadLetter(id: string): Promise<boolean>
  /**
   * Called with every message that gets dead-lettered (metrics, job bookkeeping, its error
   * record). A listener may return a promise (its error record being written): the embedded
   * queue keeps the frame in its journal until every such promise has fulfilled, so a kill before
   * then dead-letters it again at the next start rather than leaving it without a record.
   */
  onDeadLetter(listener: (d: DeadLetter) => unknown): () => void
  /** True while connected and usable. */
  isReady(): boolean
  close(): Promise<void>
}

export class QueueFullError extends Error {
  override name = 'QueueFullError'
  readonly code = 'busy'
  constructor(priority: Priority, limit: number) {
    super(`the ${priority} queue is full (${limit} frames waiting)`)
  }
}

export class QueueClosedError extends Error {
  override name = 'QueueClosedError'
  readonly code = 'unavailable'
}
