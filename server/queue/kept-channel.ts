/**
 * A channel that comes back: when it closes (connection lost, broker closed it), a new one is
 * opened and `setup` runs on it again (declare, qos, consume), with backoff between failures.
 * rabbitmq-client's own Consumer does this for a fixed queue and handler; the frame consumer and
 * the results bus need their own setup (two queues in one scheduler, bindings that change).
 */
import type { Channel, Connection } from 'rabbitmq-client'
import type { QueueErrorReporter } from './errors.ts'

export interface KeptChannelOptions {
  /** Runs on every new channel; a throw closes it and retries later. */
  setup(ch: Channel): Promise<void>
  /** The channel in use closed; deliveries received on it can no longer be settled. */
  onLost?(ch: Channel): void
  report: QueueErrorReporter
  name: string
}

export class KeptChannel {
  #ch: Channel | undefined
  #pending: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #failures = 0
  #closed = false
  #readyWaiters: (() => void)[] = []
  #firstAttempt: Promise<void> | undefined

  constructor(
    private readonly conn: Connection,
    private readonly opts: KeptChannelOptions,
  ) {}

  start(): void {
    this.#open()
    this.#firstAttempt = this.#pending
  }

  /** Resolves when the first setup has succeeded or failed (a failure was reported and is retried). */
  firstAttempt(): Promise<void> {
    return this.#firstAttempt ?? Promise.resolve()
  }

  /** The channel, once set up; undefined while (re)opening. */
  get channel(): Channel | undefined {
    return this.#ch?.active ? this.#ch : undefined
  }

  /** Resolves when a set-up channel is available. */
  ready(): Promise<void> {
    if (this.channel) return Promise.resolve()
    return new Promise((resolve) => this.#readyWaiters.push(resolve))
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#pending
    const ch = this.#ch
    this.#ch = undefined
    if (ch?.active) await ch.close()
    for (const resolve of this.#readyWaiters.splice(0)) resolve()
  }

  #open(): void {
    this.#timer = undefined
    if (this.#closed || this.#pending) return
    this.#pending = this.#setup().then(
      () => {
        this.#pending = undefined
      },
      (err: unknown) => {
        this.#pending = undefined
        if (this.#closed) return
        this.#failures++
        // a setup failing the same way on every retry is reported once, then every 20th try
        if (this.#failures === 1 || this.#failures % 20 === 0) this.opts.report(err, `${this.opts.name}: channel setup failed (try ${this.#failures})`)
        this.#retryLater()
      },
    )
  }

  async #setup(): Promise<void> {
    const ch = await this.conn.acquire({ emitErrorsFromChannel: true })
    ch.on('error', (err: unknown) => this.opts.report(err, `${this.opts.name}: channel error`))
    ch.once('close', () => {
      if (this.#ch === ch) {
        this.#ch = undefined
        this.opts.onLost?.(ch)
      }
      if (!this.#closed) this.#retryLater()
    })
    if (this.#closed) {
      await ch.close()
      return
    }
    try {
      await this.opts.setup(ch)
      if (!ch.active) throw new Error('the channel closed during setup')
    } catch (err) {
      if (ch.active) await ch.close().catch((closeErr: unknown) => this.opts.report(closeErr, `${this.opts.name}: closing a channel whose setup failed`))
      throw err
    }
    this.#ch = ch
    this.#failures = 0
    for (const resolve of this.#readyWaiters.splice(0)) resolve()
  }

  #retryLater(): void {
    if (this.#closed || this.#timer || this.#pending) return
    const delay = Math.min(100 * 2 ** Math.min(this.#failures, 6), 5000)
    this.#timer = setTimeout(() => this.#open(), delay)
  }
}
