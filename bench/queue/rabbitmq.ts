/**
 * End-to-end throughput of the RabbitMQ frame queue (RabbitQueue: confirms, quorum queues, the
 * live/batch scheduler) with 100 KB frames and a no-op handler. Prints numbers, asserts nothing.
 *
 *   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 npx tsx bench/queue/rabbitmq.ts [frames] [publishers] [consumers] [prefetch] [batchEvery]
 *
 * Every `batchEvery`-th frame is a batch frame (default 10; 0: live only).
 *
 * Uses the prefix `linesight-bench-<random>` and deletes its exchanges and queues afterwards.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection } from 'rabbitmq-client'
import { loadConfig } from '../../server/config/index.ts'
import { FsBlobStore } from '../../server/queue/blobs.ts'
import { RabbitQueue } from '../../server/queue/rabbitmq.ts'
import { topologyDeclarations } from '../../server/queue/topology.ts'

const config = loadConfig()
if (!config.amqpUrl) {
  console.error('AMQP_URL is not set: nothing to measure')
  process.exit(2)
}
const [frames, publishers, consumers, prefetch, batchEvery] = [2000, 64, 2, 16, 10].map((d, i) => Number(process.argv[2 + i] ?? d))
const prefix = `linesight-bench-${randomBytes(4).toString('hex')}`
const blobDir = await mkdtemp(join(tmpdir(), 'linesight-bench-'))
const options = {
  url: config.amqpUrl,
  prefix,
  maxLength: { live: frames + 1, batch: frames + 1 },
  deliveryLimit: 3,
  deadLetterMax: 1000,
  liveTtlMs: 600_000,
  inlineMaxBytes: 1024 * 1024,
  blobs: new FsBlobStore(blobDir),
  publishTimeoutMs: 30_000,
}
const gateway = await RabbitQueue.connect({ ...options, connectionName: 'linesight bench gateway' })
const worker = await RabbitQueue.connect({ ...options, connectionName: 'linesight bench worker' })
const body = randomBytes(100 * 1024)

let consumed = 0
let finished!: () => void
const done = new Promise<void>((resolve) => (finished = resolve))
for (let c = 0; c < consumers; c++) {
  await worker.consume(async () => {
    if (++consumed === frames) finished()
  }, { prefetch })
}

const t0 = performance.now()
let next = 0
await Promise.all(
  Array.from({ length: publishers }, async () => {
    while (next < frames) {
      const i = next++
      await gateway.publish({ id: `f${i}`, headers: { line: `line-${i % 4}`, station: 's1' }, body }, { priority: batchEvery > 0 && i % batchEvery === 0 ? 'batch' : 'live' })
    }
  }),
)
const published = performance.now()
await done
const end = performance.now()

console.log(
  JSON.stringify({
    frames,
    frameBytes: body.byteLength,
    publishers,
    consumers,
    prefetch,
    batchEvery,
    publishPerS: Math.round(frames / ((published - t0) / 1000)),
    endToEndPerS: Math.round(frames / ((end - t0) / 1000)),
    loadavg1m: Number(loadavg()[0].toFixed(2)),
  }),
)

await worker.close()
await gateway.close()
const admin = new Connection(config.amqpUrl)
const d = topologyDeclarations(options)
for (const q of d.queues) await admin.queueDelete({ queue: q.queue })
for (const e of d.exchanges) await admin.exchangeDelete({ exchange: e.exchange })
await admin.close()
await rm(blobDir, { recursive: true, force: true })
