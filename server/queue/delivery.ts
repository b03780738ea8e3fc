/**
 * What both engines do the same way around a handler: a delivery settles once, and a handler
 * that returns without settling acks, one that throws nacks with requeue (types.ts).
 */
import { errorMessage, QueueError, type QueueErrorReporter } from './errors.ts'
import type { Delivery, Priority, QueueMessage } from './types.ts'

/**
 * Bytes a handler can transfer to a worker thread: they span their whole ArrayBuffer. Node
 * Buffers under 4 KB are slices of a shared pool, which Node will not detach (it copies the
 * whole pool instead, and the handler keeps bytes it meant to give away).
 */
export function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer) ? bytes : new Uint8Array(bytes)
}

export type Outcome = { ack: true } | { ack: false; requeue: boolean; reason?: string }

export class SettleOnceDelivery implements Delivery {
  #settled = false

  constructor(
    readonly message: QueueMessage,
    readonly priority: Priority,
    readonly attempt: number,
    private readonly settle: (outcome: Outcome) => Promise<void>,
  ) {}

  get settled(): boolean {
    return this.#settled
  }

  ack(): Promise<void> {
    return this.#once({ ack: true })
  }

  nack(opts: { requeue: boolean; reason?: string }): Promise<void> {
    return this.#once({ ack: false, requeue: opts.requeue, ...(opts.reason !== undefined ? { reason: opts.reason } : {}) })
  }

  #once(outcome: Outcome): Promise<void> {
    if (this.#settled) return Promise.reject(new QueueError('already_settled', `frame ${this.message.id} (attempt ${this.attempt}) was already acked or nacked`))
    this.#settled = true
    return this.settle(outcome)
  }
}

/**
 * Runs `handler` on `delivery` and settles what it left unsettled. Resolves when both are done;
 * never rejects: what has no caller left to reject goes to `report`.
 */
export function runHandler(handler: (d: Delivery) => Promise<void>, delivery: SettleOnceDelivery, report: QueueErrorReporter): Promise<void> {
  let running: Promise<void>
  try {
    running = Promise.resolve(handler(delivery))
  } catch (err) {
    running = Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
  return running.then(
    () => (delivery.settled ? undefined : delivery.ack()),
    (err: unknown) => {
      if (!delivery.settled) return delivery.nack({ requeue: true, reason: errorMessage(err) })
      report(new QueueError('handler_failed', `the handler for frame ${delivery.message.id} threw after settling it: ${errorMessage(err)}`, { cause: err }), 'consumer handler')
      return undefined
    },
  ).catch((err: unknown) => report(err, `settling frame ${delivery.message.id}`))
}
