/**
 * A worker that dies in the middle of a frame: it takes one delivery, prints its id and attempt as
 * a JSON line, and exits without settling it, as a process killed mid-inference would.
 * Started by test/integration/rabbitmq-poison.test.ts with the queue's options in CRASH_OPTIONS.
 */
import { FsBlobStore } from '../../server/queue/blobs.ts'
import { RabbitQueue, type RabbitQueueOptions } from '../../server/queue/rabbitmq.ts'

const raw = JSON.parse(process.env.CRASH_OPTIONS ?? '{}') as Omit<RabbitQueueOptions, 'blobs'> & { blobDir: string }
const queue = await RabbitQueue.connect({ ...raw, blobs: new FsBlobStore(raw.blobDir) })
await queue.consume(async (d) => {
  process.stdout.write(`${JSON.stringify({ id: d.message.id, attempt: d.attempt })}\n`, () => process.exit(3))
  // never settles: the exit above is the crash
  await new Promise(() => undefined)
}, { prefetch: 1 })
