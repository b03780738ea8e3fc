/**
 * Publishing with confirms: `send` resolves once the broker has the message (basic.ack) and
 * rejects with why it does not: NACK (the queue refused it: full), unroutable, or unavailable
 * (the connection did not come back before the deadline). A publish cut off by a lost connection
 * is sent again after the reconnect, so a frame is never silently lost; the price is that a frame
 * whose confirm was lost in the cut may arrive twice (results are recorded once per frame id).
 */
import type { Connection, Envelope, Publisher, PublisherProps } from 'rabbitmq-client'
import { errorMessage, QueueError } from './errors.ts'

// the broker's and the client's codes for failures that another attempt will not fix
const FINAL = new Set(['NACK', 'PRECONDITION_FAILED', 'ACCESS_REFUSED', 'NOT_FOUND', 'CLOSED', 'CLOSING', 'RESOURCE_LOCKED', 'COMMAND_INVALID'])

export class ConfirmPublisher {
  readonly #pub: Publisher
  readonly #returned = new Set<string>()

  /**
   * @param declarations topology declared on every channel the publisher opens
   * @param timeoutMs longest a send waits, reconnects included
   */
  constructor(
    conn: Connection,
    declarations: Pick<PublisherProps, 'exchanges' | 'queues' | 'queueBindings'>,
    private readonly timeoutMs: number,
  ) {
    this.#pub = conn.createPublisher({ confirm: true, maxAttempts: 1, ...declarations })
    this.#pub.on('basic.return', (msg) => {
      if (msg.messageId) this.#returned.add(msg.messageId)
    })
  }

  /** `envelope.messageId` identifies a returned message; `mandatory` decides whether one can return. */
  async send(envelope: Envelope, body: Buffer): Promise<void> {
    const deadline = Date.now() + this.timeoutMs
    let pause = 50
    for (;;) {
      try {
        await this.#withinDeadline(this.#pub.send(envelope, body), deadline, envelope.messageId)
      } catch (err) {
        if (err instanceof QueueError) throw err
        const code = (err as { code?: string }).code ?? ''
        if (FINAL.has(code)) throw err
        if (Date.now() + pause >= deadline) throw new QueueError('unavailable', `RabbitMQ did not take message ${envelope.messageId} within ${this.timeoutMs} ms: ${errorMessage(err)}`, { cause: err })
        // a channel that fails at once (a broken setup) must not turn this into a busy loop
        await new Promise((resolve) => setTimeout(resolve, pause))
        pause = Math.min(pause * 2, 1000)
        continue
      }
      if (envelope.mandatory && envelope.messageId) {
        // basic.return arrives before the confirm, but rabbitmq-client emits it on setImmediate
        // while the confirm resolves in a microtask: one macrotask later the return is known
        await new Promise((resolve) => setImmediate(resolve))
        if (this.#returned.delete(envelope.messageId)) {
          throw new QueueError('unroutable', `no queue is bound for ${envelope.exchange} / ${envelope.routingKey}; message ${envelope.messageId} was not queued`)
        }
      }
      return
    }
  }

  /**
   * A broker that blocks publishers (memory or disk alarm) takes the message and never confirms it
   * while blocked: the caller gets an answer at the deadline anyway.
   */
  #withinDeadline(sending: Promise<void>, deadline: number, id: string | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueError('unavailable', `RabbitMQ did not confirm message ${id} within ${this.timeoutMs} ms (it may still be queued: the connection is blocked or slow)`)), Math.max(0, deadline - Date.now()))
    })
    // a send that fails after the deadline has already been answered; its error is the timeout's
    void sending.catch(() => undefined)
    return Promise.race([sending, expired]).finally(() => clearTimeout(timer))
  }

  close(): Promise<void> {
    return this.#pub.close()
  }
}
