/**
 * `npx tsx bench/mqtt-latency.ts [--frames 200] [--mqtt mqtt://127.0.0.1:1883]`: capture to MQTT
 * message latency at half load. A real linesight process (test/helpers/server.ts) publishes to a
 * real broker; frames go in by POST /api/v1/detect, each station in `continuous` mode, so every
 * frame's verdict is published on `<prefix>/<line>/<station>/result`. The clock starts when the
 * image is sent (it is captured by then) and stops when a subscriber on the same host receives
 * the message; the HTTP reply's latency is measured beside it, so the MQTT hop shows as the
 * difference. Half load: first the closed-loop rate (one frame in flight) is measured, then
 * frames are sent open-loop at half that rate. Reports, never asserts.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mqtt from 'mqtt'
import { startServer } from '../test/helpers/server.ts'
import { latencyOf } from './stats.ts'

const ROOT = new URL('..', import.meta.url).pathname
const { values } = parseArgs({ options: { frames: { type: 'string', default: '200' }, mqtt: { type: 'string', default: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883' } } })
const frames = Number(values.frames)
const prefix = `ls-bench-${process.pid}`
const image = await readFile(join(ROOT, 'models/samples/crack.jpg'))

const server = await startServer({ env: { MQTT_URL: values.mqtt!, MQTT_TOPIC_PREFIX: prefix, MQTT_CLIENT_ID: `${prefix}-server`, HTTPS_ENABLED: 'false' } })
const sub = await mqtt.connectAsync(values.mqtt!)
const arrived = new Map<string, number>()
sub.on('message', (_topic, payload) => {
  const at = performance.now()
  arrived.set((JSON.parse(payload.toString('utf8')) as { frameId: string }).frameId, at)
})
await sub.subscribeAsync(`${prefix}/+/+/result`, { qos: 1 })

async function send(i: number): Promise<{ frameId: string; sentAt: number; replyMs: number }> {
  const sentAt = performance.now()
  const res = await fetch(`${server.url}/api/v1/detect?line=BENCH&station=S${i % 4}`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'image/jpeg' }, body: image })
  const body = (await res.json()) as { frameId?: string; error?: { message: string } }
  if (!body.frameId) throw new Error(`detect failed: ${res.status} ${JSON.stringify(body)}`)
  return { frameId: body.frameId, sentAt, replyMs: performance.now() - sentAt }
}

try {
  for (let i = 0; i < 10; i++) await send(i) // warm-up
  const t0 = performance.now()
  const closedLoop = 30
  for (let i = 0; i < closedLoop; i++) await send(i)
  const capacityFps = closedLoop / ((performance.now() - t0) / 1000)
  const rate = capacityFps / 2
  const pending: Promise<{ frameId: string; sentAt: number; replyMs: number }>[] = []
  const start = performance.now()
  for (let i = 0; i < frames; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    pending.push(send(i))
  }
  const sent = await Promise.all(pending)
  const deadline = performance.now() + 30_000
  while (sent.some((s) => !arrived.has(s.frameId)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const mqttMs = sent.flatMap((s) => (arrived.has(s.frameId) ? [arrived.get(s.frameId)! - s.sentAt] : []))
  const replyMs = sent.map((s) => s.replyMs)
  const fmt = (l: ReturnType<typeof latencyOf>) => `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, mean ${l.mean.toFixed(1)} ms (n=${l.n})`
  console.log(`closed-loop rate ${capacityFps.toFixed(1)} frames/s; sent ${frames} frames open-loop at ${rate.toFixed(1)} frames/s (half load)`)
  console.log(`capture -> MQTT result message: ${fmt(latencyOf(mqttMs))}`)
  console.log(`capture -> HTTP reply (same frames): ${fmt(latencyOf(replyMs))}`)
  if (mqttMs.length < frames) console.log(`MISSING: ${frames - mqttMs.length} results never reached MQTT`)
} finally {
  await sub.endAsync()
  await server.stop()
}
