/**
 * MQTT for tests. The shared Mosquitto (MQTT_URL, 127.0.0.1:1883 on these machines) serves tests
 * that only publish and subscribe, each under a topic prefix of its own; a test that stops or
 * restarts the broker runs its own Mosquitto on a free port with its own persistence folder.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { freePort } from './browser.ts'
import { waitFor } from './wait.ts'

export const mqttUrl = process.env.MQTT_URL
export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p))

export const testPrefix = (name: string) => `ls-test-${name}-${randomBytes(4).toString('hex')}`

export interface Received {
  topic: string
  text: string
  retain: boolean
  qos: number
}

/** A subscriber that keeps every message it receives. */
export interface Listener {
  client: MqttClient
  messages: Received[]
  on(topic: string): Received[]
  close(): Promise<void>
}

export async function listen(url: string, topics: string[], opts: IClientOptions = {}): Promise<Listener> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...opts })
  const messages: Received[] = []
  client.on('message', (topic, payload, packet) => messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }))
  await client.subscribeAsync(topics, { qos: 1 })
  return {
    client,
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    close: () => client.endAsync(true),
  }
}

/** Removes the retained messages a test left under its prefix (an empty retained payload clears one). */
export async function clearRetained(url: string, prefix: string): Promise<void> {
  const l = await listen(url, [`${prefix}/#`])
  // retained messages arrive right after the subscription; one more round trip makes sure they have
  await l.client.publishAsync(`${prefix}/_sync`, 'x', { qos: 1 })
  await waitFor(() => l.messages.some((m) => m.topic === `${prefix}/_sync`), { what: 'the sync message' })
  for (const t of new Set(l.messages.filter((m) => m.retain).map((m) => m.topic))) await l.client.publishAsync(t, '', { qos: 1, retain: true })
  await l.close()
}

export interface OwnMosquitto {
  url: string
  port: number
  stop(): Promise<void>
  start(): Promise<void>
  remove(): Promise<void>
}

/** A Mosquitto of this test's own, with persistence, so its sessions and retained messages survive a restart. */
export async function startOwnMosquitto(): Promise<OwnMosquitto> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed (apt-get install mosquitto)')
  const dir = await mkdtemp(join(tmpdir(), 'linesight-mosquitto-'))
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  await writeFile(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'log_dest none', ''].join('\n'))
  let proc: ChildProcess | undefined
  let exited = true
  const accepting = () =>
    new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
  const own: OwnMosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: 'ignore' })
      exited = false
      proc.once('exit', () => {
        exited = true
      })
      await waitFor(async () => {
        if (exited) throw new Error('mosquitto exited at start')
        return accepting()
      }, { timeoutMs: 15_000, what: 'mosquitto to accept connections' })
    },
    async stop() {
      if (exited || !proc) return
      proc.kill('SIGTERM') // writes its persistence file on the way out
      await waitFor(() => exited, { timeoutMs: 15_000, what: 'mosquitto to exit' })
    },
    async remove() {
      await own.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
  await own.start()
  return own
}
