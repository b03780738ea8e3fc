/**
 * The MQTT output against a real Mosquitto: verdicts, retained state and stats, the last will
 * of a killed server, inbound triggers, and a broker restart in the middle of a stream.
 * Part events come from an in-process emitter (part tracking is its own issue); everything on
 * the wire is real.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { createMetrics } from '../../server/metrics/metrics.ts'
import { OutputDispatcher } from '../../server/outputs/dispatcher.ts'
import { MqttOutput } from '../../server/outputs/mqtt.ts'
import { partPayload } from '../../server/outputs/payloads.ts'
import { LocalResultBus } from '../../server/results/bus.ts'
import { clearRetained, listen, MOSQUITTO_BIN, mqttUrl, startOwnMosquitto, testPrefix, type Listener } from '../helpers/mosquitto.ts'
import { closedPart, PartEmitter, RecordingTrigger } from '../helpers/parts.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const quiet = { info: () => undefined, warn: () => undefined }
if (!mqttUrl) console.warn('[outputs-mqtt] MQTT_URL is not set: the tests on a real Mosquitto are skipped')

interface Rig {
  prefix: string
  parts: PartEmitter
  bus: LocalResultBus
  trigger: RecordingTrigger
  online: Set<string>
  mqtt: MqttOutput
  dispatcher: OutputDispatcher
  metrics: ReturnType<typeof createMetrics>
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function rig(url: string, opts: { modeOf?: (line: string, station: string) => 'continuous' | 'trigger' | 'presence'; queueMax?: number; statsIntervalMs?: number; reachable?: boolean } = {}): Rig {
  const prefix = testPrefix('mqtt')
  const parts = new PartEmitter()
  const bus = new LocalResultBus()
  const trigger = new RecordingTrigger()
  const online = new Set<string>()
  const metrics = createMetrics({ defaultMetrics: false })
  const mqtt = new MqttOutput({ url, prefix, clientId: `${prefix}-out`, rejectUnauthorized: true, queueMax: opts.queueMax ?? 10_000, trigger, metrics, log: quiet })
  const dispatcher = new OutputDispatcher({
    sinks: [mqtt],
    results: bus,
    parts,
    presence: () => [...online].map((k) => ({ line: k.split('/')[0]!, station: k.split('/')[1]! })),
    presenceIntervalMs: 50,
    statsIntervalMs: opts.statsIntervalMs ?? 200,
    ...(opts.modeOf ? { modeOf: opts.modeOf } : {}),
    log: quiet,
  })
  cleanups.push(async () => {
    await dispatcher.close()
    if (opts.reachable !== false) await clearRetained(url, prefix)
  })
  return { prefix, parts, bus, trigger, online, mqtt, dispatcher, metrics }
}

async function listener(url: string, topics: string[]): Promise<Listener> {
  const l = await listen(url, topics)
  cleanups.push(() => l.close())
  return l
}

const connected = (r: Rig) => waitFor(() => r.mqtt.client.connected, { what: 'the output to connect' })

describe.skipIf(!mqttUrl)('MQTT output on the shared Mosquitto', () => {
  const url = mqttUrl!

  it('publishes each closed part once at QoS 1, not retained, with the part record and its image link', async () => {
    const r = rig(url)
    const sub = await listener(url, [`${r.prefix}/+/+/part`])
    await connected(r)
    const sent = [closedPart(), closedPart({ verdict: 'fail' }), closedPart({ station: 'S2' })]
    for (const p of sent) r.parts.close(p)
    await waitFor(() => sub.messages.length >= 3, { what: 'three part messages' })
    expect(sub.messages.map((m) => m.topic)).toEqual([`${r.prefix}/L1/S1/part`, `${r.prefix}/L1/S1/part`, `${r.prefix}/L1/S2/part`])
    expect(sub.messages.map((m) => JSON.parse(m.text) as unknown)).toEqual(sent.map(partPayload))
    expect(sub.messages.every((m) => m.qos === 1 && !m.retain)).toBe(true)
    const failed = JSON.parse(sub.messages[1]!.text) as { image: string; defects: { frameId: string }[] }
    expect(failed.image).toBe(`/api/v1/results/${failed.defects[0]!.frameId}/image`)
  })

  it('keeps station state and line stats retained for a subscriber that comes later', async () => {
    const r = rig(url)
    await connected(r)
    r.online.add('L1/S1')
    const fail = closedPart({ verdict: 'fail' })
    r.parts.close(closedPart({ verdict: 'pass' }))
    r.parts.close(fail)
    const probe = await listener(url, [`${r.prefix}/L1/stats`])
    await waitFor(() => probe.messages.some((m) => (JSON.parse(m.text) as { parts: number }).parts === 2), { what: 'stats counting both parts' })
    const late = await listener(url, [`${r.prefix}/#`])
    await waitFor(() => late.on(`${r.prefix}/L1/S1/state`).length && late.on(`${r.prefix}/L1/stats`).length && late.on(`${r.prefix}/status`).length, { what: 'retained messages' })
    const state = JSON.parse(late.on(`${r.prefix}/L1/S1/state`).at(-1)!.text) as Record<string, unknown>
    expect(state).toMatchObject({ line: 'L1', station: 'S1', state: 'online', mode: 'continuous', lastVerdict: 'fail', lastPartId: fail.partId })
    expect(JSON.parse(late.on(`${r.prefix}/L1/stats`).at(-1)!.text)).toMatchObject({ line: 'L1', parts: 2, fails: 1, yield: 0.5, throughputPerMin: 2 })
    expect(late.on(`${r.prefix}/status`).at(-1)).toMatchObject({ text: 'online', retain: true })
    expect(late.messages.filter((m) => m.topic.endsWith('/part'))).toEqual([]) // parts are never retained

    r.online.delete('L1/S1')
    await waitFor(() => late.on(`${r.prefix}/L1/S1/state`).some((m) => (JSON.parse(m.text) as { state: string }).state === 'offline'), { what: 'the offline state' })
  })

  it('publishes per-frame results only for stations in continuous mode', async () => {
    const r = rig(url, { modeOf: (_line, station) => (station === 'S1' ? 'continuous' : 'trigger') })
    const sub = await listener(url, [`${r.prefix}/+/+/result`])
    await connected(r)
    const frame = (station: string, frameId: string): InspectionResult => ({
      frameId, line: 'L1', station, capturedAt: Date.now(), model: { name: 'detector', version: '1' }, inferredAt: 'server', ep: 'cpu', detections: [], verdict: 'pass', timings: {}, source: 'ws',
    })
    await r.bus.publish(frame('S2', 'fr-trigger-station'))
    await r.bus.publish(frame('S1', 'fr-continuous-1'))
    await r.bus.publish(frame('S1', 'fr-continuous-2'))
    await waitFor(() => sub.messages.length >= 2, { what: 'two results' })
    // S2's frame was published first, so had it been sent it would have arrived before these
    expect(sub.messages.map((m) => [m.topic, (JSON.parse(m.text) as { frameId: string }).frameId])).toEqual([
      [`${r.prefix}/L1/S1/result`, 'fr-continuous-1'],
      [`${r.prefix}/L1/S1/result`, 'fr-continuous-2'],
    ])
  })

  it('passes an inbound trigger to part tracking and answers on trigger/reply', async () => {
    const r = rig(url)
    await connected(r)
    const sub = await listener(url, [`${r.prefix}/+/+/trigger/reply`])
    await waitFor(async () => {
      // the output subscribes right after connecting; repeat until it has
      await sub.client.publishAsync(`${r.prefix}/L1/S3/trigger`, JSON.stringify({ partId: 'SN-0042/7' }), { qos: 1 })
      return r.trigger.calls.length > 0
    }, { intervalMs: 200, what: 'the trigger to arrive' })
    expect(r.trigger.calls[0]).toEqual({ line: 'L1', station: 'S3', partId: 'SN-0042/7', via: 'mqtt' })
    await waitFor(() => sub.messages.length > 0, { what: 'the reply' })
    expect(JSON.parse(sub.messages[0]!.text)).toEqual({ partId: 'SN-0042/7' })

    const before = r.trigger.calls.length
    await sub.client.publishAsync(`${r.prefix}/L1/S3/trigger`, '', { qos: 1 })
    await waitFor(() => r.trigger.calls.length > before, { what: 'the empty trigger' })
    expect(r.trigger.calls.at(-1)).toEqual({ line: 'L1', station: 'S3', via: 'mqtt' })

    const calls = r.trigger.calls.length
    await sub.client.publishAsync(`${r.prefix}/L1/S3/trigger`, '{"partId": "has space"}', { qos: 1 })
    await waitFor(() => sub.messages.some((m) => m.text.includes('bad_trigger')), { what: 'the refusal' })
    expect(r.trigger.calls.length).toBe(calls)
  })

  it('drops and counts messages beyond its queue while the broker is unreachable, without blocking', async () => {
    const r = rig('mqtt://127.0.0.1:9', { queueMax: 5, statsIntervalMs: 60_000, reachable: false }) // nothing listens on the discard port
    const started = performance.now()
    for (let i = 0; i < 20; i++) r.parts.close(closedPart())
    const tookMs = performance.now() - started
    const dropped = (await r.metrics.outputDropped.get()).values.find((v) => v.labels.output === 'mqtt')?.value
    const pending = (await r.metrics.outputPending.get()).values.find((v) => v.labels.output === 'mqtt')?.value
    // each part is two messages: the part and its station's new state
    expect({ dropped, pending }).toEqual({ dropped: 35, pending: 5 })
    console.info(`20 parts handed to a dead broker's output in ${tookMs.toFixed(1)} ms`)
  })
})

describe.skipIf(!mqttUrl)('MQTT last will', () => {
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.kill()
    await server?.stop()
  })

  it('marks linesight offline when its process is killed', async () => {
    const prefix = testPrefix('will')
    const sub = await listener(mqttUrl!, [`${prefix}/status`])
    server = await startServer({ env: { MQTT_URL: mqttUrl!, MQTT_TOPIC_PREFIX: prefix, MQTT_CLIENT_ID: `${prefix}-server`, HTTPS_ENABLED: 'false' } })
    await waitFor(() => sub.messages.at(-1)?.text === 'online', { timeoutMs: 30_000, what: 'status online' })
    await server.kill()
    // the broker sends the will once it notices the dead connection (at once: the socket closes)
    await waitFor(() => sub.messages.at(-1)?.text === 'offline', { timeoutMs: 60_000, what: 'the last will' })
    expect(sub.messages.at(-1)).toMatchObject({ topic: `${prefix}/status`, text: 'offline' })
    await clearRetained(mqttUrl!, prefix)
  }, 120_000)
})

describe.skipIf(!MOSQUITTO_BIN)('MQTT output across a broker restart (own Mosquitto)', () => {
  it('loses no verdict when the broker restarts in the middle of a stream', async () => {
    const broker = await startOwnMosquitto()
    cleanups.push(() => broker.remove())
    const r = rig(broker.url)
    // a persistent session: the broker keeps this subscriber's QoS 1 messages while it is away too
    const sub = await listen(broker.url, [`${r.prefix}/+/+/part`], { clientId: `${r.prefix}-sub`, clean: false })
    cleanups.push(() => sub.close())
    await connected(r)
    const sent: string[] = []
    const emit = (n: number) => {
      for (let i = 0; i < n; i++) {
        const p = closedPart()
        sent.push(p.partId)
        r.parts.close(p)
      }
    }
    emit(20)
    await broker.stop()
    emit(15) // while the broker is down
    await broker.start()
    emit(15)
    await waitFor(() => new Set(sub.messages.map((m) => (JSON.parse(m.text) as { partId: string }).partId)).size >= sent.length, { timeoutMs: 60_000, what: 'every verdict' })
    const got = new Set(sub.messages.map((m) => (JSON.parse(m.text) as { partId: string }).partId))
    expect([...got].sort()).toEqual([...sent].sort())
  }, 120_000)
})
