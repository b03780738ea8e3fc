/**
 * The MQTT output (Frigate's interface is the model): `<prefix>/status` retained `online` with a
 * last will `offline`; per station a retained `state`, each closed `part` and, in continuous
 * mode, each frame's `result` (QoS 1, not retained); per line a retained `stats`; and an inbound
 * `trigger` that starts a part. docs/plant-outputs.md has the topic tree and payloads.
 *
 * At least once: QoS 1 messages stay in mqtt.js's outgoing store until the broker acknowledges
 * them and are sent again after a reconnect. Bounded: at most `queueMax` unacknowledged; beyond
 * that a message is dropped and counted, so a dead broker costs memory up to a limit, never
 * inspection time.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { PartRecord } from '../../shared/domain/part.ts'
import { PartId } from '../../shared/domain/part.ts'
import { isId } from '../../shared/domain/ids.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { PartTrigger } from '../parts/contract.ts'
import { partPayload, resultPayload, statePayload } from './payloads.ts'
import type { LineStats, OutputSink, StationState } from './types.ts'

export interface MqttOutputOptions {
  url: string
  prefix: string
  clientId: string
  username?: string
  password?: string
  caFile?: string
  certFile?: string
  keyFile?: string
  rejectUnauthorized: boolean
  queueMax: number
  trigger?: PartTrigger
  metrics: OutputMetrics
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

/** The metrics an output reports (server/metrics/metrics.ts). */
export interface OutputMetrics {
  outputMessages: { inc(labels: { output: string }): void }
  outputDropped: { inc(labels: { output: string }): void }
  outputPending: { set(labels: { output: string }, value: number): void }
  outputLatency: { observe(labels: { kind: string }, seconds: number): void }
}

type Kind = 'part' | 'result' | 'state' | 'stats' | 'status' | 'reply'

export class MqttOutput implements OutputSink {
  readonly name = 'mqtt'
  readonly client: MqttClient
  readonly #states = new Map<string, StationState>()
  readonly #stats = new Map<string, LineStats>()
  #pending = 0

  constructor(private readonly o: MqttOutputOptions) {
    const options: IClientOptions = {
      clientId: o.clientId,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // QoS 0 is never used; QoS 1 messages published while offline wait in the outgoing store
      queueQoSZero: false,
      will: { topic: `${o.prefix}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
      rejectUnauthorized: o.rejectUnauthorized,
    }
    if (o.username !== undefined) options.username = o.username
    if (o.password !== undefined) options.password = o.password
    if (o.caFile) options.ca = readFileSync(o.caFile)
    if (o.certFile) options.cert = readFileSync(o.certFile)
    if (o.keyFile) options.key = readFileSync(o.keyFile)
    this.client = mqtt.connect(o.url, options)
    this.client.on('connect', () => this.#connected())
    this.client.on('error', (err) => o.log.warn({ err: err.message }, 'MQTT broker error; reconnecting'))
    this.client.on('offline', () => o.log.warn({ url: redact(o.url) }, 'MQTT broker unreachable; messages wait for it (OUTPUTS_QUEUE_MAX)'))
    this.client.on('message', (topic, payload) => this.#message(topic, payload))
  }

  topic(line: string, station?: string, leaf?: string): string {
    return [this.o.prefix, line, station, leaf].filter((x) => x !== undefined).join('/')
  }

  part(part: PartRecord): void {
    this.#publish(this.topic(part.line, part.station, 'part'), JSON.stringify(partPayload(part)), false, 'part', part.closedAt ?? undefined)
  }

  result(r: InspectionResult): void {
    this.#publish(this.topic(r.line, r.station, 'result'), JSON.stringify(resultPayload(r)), false, 'result', r.capturedAt)
  }

  station(state: StationState): void {
    this.#states.set(`${state.line}/${state.station}`, { ...state })
    this.#publish(this.topic(state.line, state.station, 'state'), JSON.stringify(statePayload(state)), true, 'state')
  }

  stats(stats: LineStats): void {
    this.#stats.set(stats.line, stats)
    this.#publish(this.topic(stats.line, undefined, 'stats'), JSON.stringify(stats), true, 'stats')
  }

  /** Announces itself, and restores retained messages a broker restarted without persistence lost. */
  #connected(): void {
    this.o.log.info({ url: redact(this.o.url), prefix: this.o.prefix }, 'MQTT connected')
    this.#publish(`${this.o.prefix}/status`, 'online', true, 'status')
    for (const s of this.#states.values()) this.#publish(this.topic(s.line, s.station, 'state'), JSON.stringify(statePayload(s)), true, 'state')
    for (const s of this.#stats.values()) this.#publish(this.topic(s.line, undefined, 'stats'), JSON.stringify(s), true, 'stats')
    if (this.o.trigger) {
      this.client.subscribe(`${this.o.prefix}/+/+/trigger`, { qos: 1 }, (err) => {
        if (err) this.o.log.warn({ err: err.message }, 'MQTT: subscribing to triggers failed')
      })
    }
  }

  #publish(topic: string, payload: string, retain: boolean, kind: Kind, since?: number): void {
    if (this.#pending >= this.o.queueMax) {
      this.o.metrics.outputDropped.inc({ output: 'mqtt' })
      return
    }
    this.#pending++
    this.o.metrics.outputPending.set({ output: 'mqtt' }, this.#pending)
    this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.#pending--
      this.o.metrics.outputPending.set({ output: 'mqtt' }, this.#pending)
      if (err) {
        // only when the client is closed for good: a lost connection keeps the message for the next one
        this.o.metrics.outputDropped.inc({ output: 'mqtt' })
        return
      }
      this.o.metrics.outputMessages.inc({ output: 'mqtt' })
      if (since !== undefined && (kind === 'part' || kind === 'result')) this.o.metrics.outputLatency.observe({ kind }, Math.max(0, Date.now() - since) / 1000)
    })
  }

  /** `<prefix>/<line>/<station>/trigger`, payload empty or `{"partId": "..."}`; the outcome goes to `.../trigger/reply`. */
  #message(topic: string, payload: Buffer): void {
    const rest = topic.startsWith(`${this.o.prefix}/`) ? topic.slice(this.o.prefix.length + 1).split('/') : []
    const [line, station, leaf] = rest
    if (rest.length !== 3 || leaf !== 'trigger' || !line || !station) return
    const reply = (value: object) => this.#publish(`${topic}/reply`, JSON.stringify(value), false, 'reply')
    const refuse = (code: string, message: string) => {
      this.o.log.warn({ topic, code }, `MQTT trigger refused: ${message}`)
      reply({ error: { code, message } })
    }
    if (!isId(line) || !isId(station)) return refuse('bad_topic', 'line and station must be ids')
    const parsed = parseTriggerPayload(payload)
    if ('error' in parsed) return refuse('bad_trigger', parsed.error)
    const trigger = this.o.trigger
    if (!trigger) return
    void trigger.trigger({ line, station, ...(parsed.partId !== undefined ? { partId: parsed.partId } : {}), via: 'mqtt' }).then(
      (r) => reply({ partId: r.partId }),
      (err: unknown) => refuse(errorCode(err), err instanceof Error ? err.message : String(err)),
    )
  }

  async close(): Promise<void> {
    // a clean shutdown says so itself (the will is only for a crash)
    if (this.client.connected) await this.client.publishAsync(`${this.o.prefix}/status`, 'offline', { qos: 1, retain: true }).catch(() => undefined)
    await this.client.endAsync(!this.client.connected)
  }
}

/** At most 1 KiB: `{}` or `{"partId": "<PartId>"}`; an empty payload means no part id. */
export function parseTriggerPayload(payload: Buffer): { partId?: string } | { error: string } {
  if (payload.length > 1024) return { error: 'the payload is over 1 KiB' }
  const text = payload.toString('utf8').trim()
  if (!text) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { error: 'the payload must be JSON: {} or {"partId": "..."}' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'the payload must be a JSON object' }
  const extra = Object.keys(value).filter((k) => k !== 'partId')
  if (extra.length) return { error: `unknown keys: ${extra.join(', ')}` }
  const partId = (value as { partId?: unknown }).partId
  if (partId === undefined) return {}
  const ok = PartId.safeParse(partId)
  return ok.success ? { partId: ok.data } : { error: 'partId: 1-128 printable ASCII characters, no spaces' }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'trigger_failed'
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'mqtt'
  }
}
