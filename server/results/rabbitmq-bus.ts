/**
 * Results between processes over RabbitMQ: whoever inferred a frame publishes its result to the
 * `<p>.results` topic exchange under `result.<line>.<station>`; each gateway declares its own
 * exclusive, auto-deleted queue and binds only the lines its stations and kiosks need
 * (`setInterest`), so a gateway never receives another plant area's results. Until the first
 * `setInterest`, a subscribed bus receives every result, as the in-process bus does.
 *
 * The queue goes with the connection; after a reconnect a new one is declared and bound to the
 * current interest. Results published while a gateway is disconnected are not kept for it (they
 * are in the results store, which the HTTP API serves).
 */
import { type Channel, Connection } from 'rabbitmq-client'
import { type InspectionResult, InspectionResultSchema } from '../../shared/domain/result.ts'
import type { Config } from '../config/index.ts'
import { errorMessage, QueueError, reportToConsole, type QueueErrorReporter } from '../queue/errors.ts'
import { KeptChannel } from '../queue/kept-channel.ts'
import { ConfirmPublisher } from '../queue/publisher.ts'
import { routingWord } from '../queue/topology.ts'
import type { ResultBus } from './bus.ts'

export interface RabbitResultBusOptions {
  url: string
  /** Exchange name prefix, as the frame queue's (`linesight`). */
  prefix: string
  publishTimeoutMs: number
  connectionName?: string
  onError?: QueueErrorReporter
}

export function resultBusOptionsFromConfig(config: Config): RabbitResultBusOptions {
  if (!config.amqpUrl) throw new QueueError('unavailable', 'AMQP_URL is not set')
  return { url: config.amqpUrl, prefix: 'linesight', publishTimeoutMs: config.queuePublishTimeoutMs, connectionName: `linesight results ${config.role} ${process.pid}` }
}

const CONTENT_TYPE = 'application/vnd.linesight.result+json'
// a gateway that stops reading must not grow the broker without bound; kiosks want the newest
const GATEWAY_QUEUE_MAX = 10_000

export const resultRoutingKey = (line: string, station: string) => `result.${routingWord(line)}.${routingWord(station)}`
const lineBinding = (line: string) => `result.${routingWord(line)}.*`
const EVERY_RESULT = 'result.#'

export class RabbitResultBus implements ResultBus {
  readonly #conn: Connection
  readonly #exchange: string
  readonly #publisher: ConfirmPublisher
  readonly #kept: KeptChannel
  readonly #report: QueueErrorReporter
  readonly #listeners = new Set<(r: InspectionResult) => void>()
  /** Binding keys wanted: every result until the first setInterest. */
  #interest = new Set<string>([EVERY_RESULT])
  /** Binding keys bound to the current queue. */
  #bound = new Set<string>()
  #queue = ''
  #started = false
  #rebind: Promise<void> = Promise.resolve()

  constructor(opts: RabbitResultBusOptions) {
    this.#report = opts.onError ?? reportToConsole
    this.#exchange = `${opts.prefix}.results`
    this.#conn = new Connection({ url: opts.url, connectionName: opts.connectionName ?? 'linesight results', acquireTimeout: opts.publishTimeoutMs, retryLow: 100, retryHigh: 5000, heartbeat: 10 })
    this.#conn.on('error', (err: unknown) => this.#report(err, 'RabbitMQ results connection'))
    const exchange = { exchange: this.#exchange, type: 'topic', durable: true }
    this.#publisher = new ConfirmPublisher(this.#conn, { exchanges: [exchange] }, opts.publishTimeoutMs)
    this.#kept = new KeptChannel(this.#conn, {
      name: 'results bus',
      report: this.#report,
      setup: async (ch) => {
        await ch.exchangeDeclare(exchange)
        const { queue } = await ch.queueDeclare({ queue: '', exclusive: true, autoDelete: true, arguments: { 'x-max-length': GATEWAY_QUEUE_MAX, 'x-overflow': 'drop-head' } })
        await ch.basicQos({ prefetchCount: 256 })
        await ch.basicConsume({ queue }, (msg) => {
          this.#deliver(msg.body, msg.routingKey)
          ch.basicAck({ deliveryTag: msg.deliveryTag })
        })
        this.#queue = queue
        this.#bound = new Set()
        // the kept channel is published only after setup: hand this one over explicitly
        await this.#reconcile(ch)
      },
      onLost: () => {
        this.#queue = ''
        this.#bound = new Set()
      },
    })
  }

  /** Resolves once the broker confirmed the result. */
  async publish(result: InspectionResult): Promise<void> {
    const body = Buffer.from(JSON.stringify(result))
    await this.#publisher.send({ exchange: this.#exchange, routingKey: resultRoutingKey(result.line, result.station), messageId: result.frameId, contentType: CONTENT_TYPE }, body)
  }

  subscribe(listener: (result: InspectionResult) => void): () => void {
    this.#listeners.add(listener)
    this.#start()
    return () => this.#listeners.delete(listener)
  }

  /** Receive the results of exactly these lines from now on (resolves once the bindings changed). */
  setInterest(lines: readonly string[]): Promise<void> {
    this.#interest = new Set(lines.map(lineBinding))
    this.#start()
    return this.#reconcile()
  }

  /** Resolves once the gateway's queue exists and is bound, so results published now reach it. */
  ready(): Promise<void> {
    this.#start()
    return this.#kept.ready().then(() => this.#rebind)
  }

  async close(): Promise<void> {
    this.#listeners.clear()
    await this.#rebind
    await this.#kept.close()
    await this.#publisher.close()
    await this.#conn.close()
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    this.#kept.start()
  }

  /**
   * Brings the bindings of the current queue to the current interest. Serialized, and run again
   * after every setup, so an interest changed while the channel was being set up is not lost.
   */
  #reconcile(setupChannel?: Channel): Promise<void> {
    const run = this.#rebind.then(async () => {
      const ch = setupChannel ?? this.#kept.channel
      const queue = this.#queue
      // without a channel, the next setup reconciles
      if (!ch || !queue) return
      for (const key of this.#interest) {
        if (this.#bound.has(key)) continue
        await ch.queueBind({ queue, exchange: this.#exchange, routingKey: key })
        this.#bound.add(key)
      }
      for (const key of this.#bound) {
        if (this.#interest.has(key)) continue
        await ch.queueUnbind({ queue, exchange: this.#exchange, routingKey: key })
        this.#bound.delete(key)
      }
    })
    this.#rebind = run.catch((err: unknown) => this.#report(err, 'results bus: changing bindings'))
    return run
  }

  #deliver(body: unknown, routingKey: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : String(body))
    } catch (err) {
      this.#report(new Error(`results bus: a message under ${routingKey} is not JSON: ${errorMessage(err)}`), 'results bus')
      return
    }
    const result = InspectionResultSchema.safeParse(parsed)
    if (!result.success) {
      this.#report(new Error(`results bus: a message under ${routingKey} is not an InspectionResult: ${result.error.message}`), 'results bus')
      return
    }
    for (const listener of this.#listeners) {
      try {
        listener(result.data)
      } catch (err) {
        this.#report(err, 'results bus listener')
      }
    }
  }
}
