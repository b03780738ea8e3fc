/**
 * Measures 100 KB frames through a quorum queue and a classic queue on the broker at AMQP_URL:
 * publisher confirms on, a consumer acking each message, as the frame queue uses them.
 * It prints numbers and asserts nothing (a benchmark, not a test).
 *
 *   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 npx tsx bench/queue/queue-types.ts [frames] [window] [frameMax,...]
 *
 * frameMax is the AMQP frame size the client asks for (the broker allows up to 131072); the
 * default compares it with rabbitmq-client's own default, 8192.
 *
 * Queues are named `linesight-bench-<type>-<random>` and deleted afterwards.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { Connection } from 'rabbitmq-client'
import { loadConfig } from '../../server/config/index.ts'

const config = loadConfig()
if (!config.amqpUrl) {
  console.error('AMQP_URL is not set: nothing to measure')
  process.exit(2)
}
const frames = Number(process.argv[2] ?? 2000)
const window = Number(process.argv[3] ?? 64)
const frameBytes = 100 * 1024
const frameMaxes = (process.argv[4] ?? '131072,8192').split(',').map(Number)

type QueueType = 'quorum' | 'classic'
const ARGS: Record<QueueType, Record<string, unknown>> = {
  quorum: { 'x-queue-type': 'quorum', 'x-overflow': 'reject-publish', 'x-max-length': frames + 1, 'x-delivery-limit': 2 },
  classic: { 'x-queue-type': 'classic', 'x-queue-version': 2, 'x-overflow': 'reject-publish', 'x-max-length': frames + 1 },
}

interface Run {
  type: QueueType
  frameMax: number
  publishPerS: number
  endToEndPerS: number
  confirmP50: number
  confirmP99: number
  loadavg1m: number
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

async function measure(type: QueueType, frameMax: number): Promise<Run> {
  const conn = new Connection({ url: config.amqpUrl, frameMax, connectionName: 'linesight-bench' })
  conn.on('error', (err) => console.error('connection error', err))
  const queue = `linesight-bench-${type}-${randomBytes(4).toString('hex')}`
  const ch = await conn.acquire()
  try {
    await ch.queueDeclare({ queue, durable: true, arguments: ARGS[type] })
    await ch.confirmSelect()
    const body = randomBytes(frameBytes)

    let consumed = 0
    let allConsumed!: () => void
    const consumedPromise = new Promise<void>((resolve) => (allConsumed = resolve))
    const sub = await conn.acquire()
    await sub.basicQos({ prefetchCount: window })
    await sub.basicConsume({ queue }, (msg) => {
      sub.basicAck({ deliveryTag: msg.deliveryTag })
      if (++consumed === frames) allConsumed()
    })

    const latencies: number[] = []
    const t0 = performance.now()
    let next = 0
    const lane = async () => {
      while (next < frames) {
        const i = next++
        const s = performance.now()
        await ch.basicPublish({ routingKey: queue, messageId: `f${i}`, durable: true, headers: { line: 'bench' } }, body)
        latencies.push(performance.now() - s)
      }
    }
    await Promise.all(Array.from({ length: window }, lane))
    const published = performance.now()
    await consumedPromise
    const done = performance.now()
    await sub.close()
    return {
      type,
      frameMax,
      publishPerS: Math.round(frames / ((published - t0) / 1000)),
      endToEndPerS: Math.round(frames / ((done - t0) / 1000)),
      confirmP50: Number(percentile(latencies, 50).toFixed(1)),
      confirmP99: Number(percentile(latencies, 99).toFixed(1)),
      // the machine is shared: a number measured under load says so
      loadavg1m: Number(loadavg()[0].toFixed(2)),
    }
  } finally {
    await ch.queueDelete({ queue }).catch((err: unknown) => console.error(`could not delete ${queue}`, err))
    await ch.close()
    await conn.close()
  }
}

console.log(`${frames} frames of ${frameBytes} bytes, ${window} publishes in flight, consumer prefetch ${window}`)
const runs: Run[] = []
// alternate the types so that a warming broker or disk cache favours neither
for (const frameMax of frameMaxes) {
  for (const round of [1, 2]) {
    for (const type of round === 1 ? (['quorum', 'classic'] as const) : (['classic', 'quorum'] as const)) {
      const r = await measure(type, frameMax)
      runs.push(r)
      console.log(JSON.stringify(r))
    }
  }
}
console.table(runs)
