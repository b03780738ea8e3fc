/**
 * Throughput of the embedded queue with 100 KB frames and no-op handlers (the gateway's target is
 * >= 3,000 frames/s end to end, so the queue itself must cost a small fraction of that budget).
 * Prints numbers, asserts nothing.
 *
 *   npx tsx bench/queue/embedded.ts [frames]
 */
import { EmbeddedQueue } from '../../server/queue/embedded.ts'
import type { QueueMessage } from '../../server/queue/types.ts'

const frames = Number(process.argv[2] ?? 200_000)
// a pool of distinct buffers, as frames from many stations would be; allocation is not the queue's cost
const pool = Array.from({ length: 64 }, (_, i) => new Uint8Array(100 * 1024).fill(i))
const message = (i: number): QueueMessage => ({ id: `f${i}`, headers: { line: 'l1', station: 's1', capturedAt: Date.now() }, body: pool[i % pool.length] })

async function streaming(consumers: number, prefetch: number): Promise<number> {
  const q = new EmbeddedQueue({ maxLength: { live: 1000, batch: 100_000 }, deliveryLimit: 3, liveTtlMs: 5000, deadLetterMax: 1000 })
  let done = 0
  let finished!: () => void
  const all = new Promise<void>((resolve) => (finished = resolve))
  for (let c = 0; c < consumers; c++) {
    await q.consume(async (d) => {
      await d.ack()
      if (++done === frames) finished()
    }, { prefetch })
  }
  const t0 = performance.now()
  for (let i = 0; i < frames; i++) await q.publish(message(i), { priority: i % 10 === 0 ? 'batch' : 'live' })
  await all
  const s = (performance.now() - t0) / 1000
  await q.close()
  return Math.round(frames / s)
}

async function backlog(): Promise<{ publishPerS: number; drainPerS: number }> {
  const q = new EmbeddedQueue({ maxLength: { live: frames, batch: frames }, deliveryLimit: 3, liveTtlMs: 60_000, deadLetterMax: 1000 })
  const t0 = performance.now()
  for (let i = 0; i < frames; i++) await q.publish(message(i), { priority: 'batch' })
  const t1 = performance.now()
  let done = 0
  let finished!: () => void
  const all = new Promise<void>((resolve) => (finished = resolve))
  await q.consume(async () => {
    if (++done === frames) finished()
  }, { prefetch: 16 })
  await all
  const t2 = performance.now()
  await q.close()
  return { publishPerS: Math.round(frames / ((t1 - t0) / 1000)), drainPerS: Math.round(frames / ((t2 - t1) / 1000)) }
}

console.log(`${frames} frames of 100 KB (waiting by reference, copied once per delivery), Node ${process.version}`)
for (const [consumers, prefetch] of [
  [1, 1],
  [4, 8],
  [16, 4],
] as const) {
  console.log(`streaming, ${consumers} consumers x prefetch ${prefetch}: ${(await streaming(consumers, prefetch)).toLocaleString('en')} frames/s`)
}
const b = await backlog()
console.log(`backlog of ${frames} batch frames: publish ${b.publishPerS.toLocaleString('en')} frames/s, drain ${b.drainPerS.toLocaleString('en')} frames/s`)
