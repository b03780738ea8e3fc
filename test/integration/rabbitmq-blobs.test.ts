/**
 * Frames over QUEUE_INLINE_MAX_BYTES on a real RabbitMQ: the bytes go through the blob store, the
 * consumer sees them as if they had been inline, and the blob lives exactly as long as a message
 * points at it.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { testQueue, type TestQueue } from '../helpers/rabbit-queue.ts'
import { waitFor } from '../helpers/wait.ts'
import { type DeadLetter, type QueueMessage, QueueFullError } from '../../server/queue/types.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[rabbitmq-blobs] AMQP_URL is not set: the blob store tests are skipped')

const big = (id: string, bytes = 300 * 1024): QueueMessage => ({ id, headers: { line: 'line-1', station: 'st-1' }, body: new Uint8Array(bytes).map((_, i) => (i * 31 + id.length) % 256) })

async function blobFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const shard of await readdir(dir).catch(() => [] as string[])) {
    for (const f of await readdir(join(dir, shard))) out.push(join(shard, f))
  }
  return out
}

describe.skipIf(!amqpUrl)('large frames through the blob store', () => {
  let vhost: TestVhost
  let blobDir: string
  let t: TestQueue
  let n = 0
  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl as string)
  })
  afterAll(async () => {
    await vhost?.drop()
  })
  beforeEach(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'linesight-blobs-it-'))
    t = await testQueue(vhost, blobDir, { prefix: `blobs-${++n}`, inlineMaxBytes: 64 * 1024, maxLength: { live: 2, batch: 2 } })
  })
  afterEach(async () => {
    await t.queue.close()
    await rm(blobDir, { recursive: true, force: true })
  })

  it('hands the consumer the same bytes and deletes the blob after the ack', async () => {
    const m = big('large-1')
    const small = big('small-1', 1024)
    await t.queue.publish(m, { priority: 'batch' })
    await t.queue.publish(small, { priority: 'batch' })
    expect(await blobFiles(blobDir)).toHaveLength(1)
    const got = new Map<string, Buffer>()
    await t.queue.consume(async (d) => {
      got.set(d.message.id, Buffer.from(d.message.body))
    }, { prefetch: 1 })
    await waitFor(() => got.size === 2, { what: 'both frames' })
    expect(got.get(m.id)?.equals(Buffer.from(m.body))).toBe(true)
    expect(got.get(small.id)?.equals(Buffer.from(small.body))).toBe(true)
    await waitFor(async () => (await blobFiles(blobDir)).length === 0, { what: 'the blob to go after the ack' })
  })

  it('keeps the blob of a dead-lettered frame until the dead letter is discarded', async () => {
    const m = big('large-dead')
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    await t.queue.consume((d) => d.nack({ requeue: false, reason: 'model refused it' }), { prefetch: 1 })
    await t.queue.publish(m, { priority: 'live' })
    await waitFor(() => dead.length === 1, { what: 'the dead letter' })
    expect(Buffer.from(dead[0].message.body).equals(Buffer.from(m.body))).toBe(true)
    const [listed] = await t.queue.listDeadLetters()
    expect(Buffer.from(listed.message.body).equals(Buffer.from(m.body))).toBe(true)
    expect(await blobFiles(blobDir)).toHaveLength(1)
    expect(await t.queue.discardDeadLetter(m.id)).toBe(true)
    expect(await blobFiles(blobDir)).toHaveLength(0)
  })

  it('dead-letters a frame whose blob is gone, saying so', async () => {
    const m = big('large-lost')
    await t.queue.publish(m, { priority: 'live' })
    const [file] = await blobFiles(blobDir)
    await rm(join(blobDir, file))
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    let handled = 0
    await t.queue.consume(async () => {
      handled++
    }, { prefetch: 1 })
    await waitFor(() => dead.length === 1, { what: 'the dead letter' })
    expect(handled).toBe(0)
    expect(dead[0].reason).toBe('rejected')
    expect(dead[0].error).toMatch(/blob .* is not in/)
  })

  it('deletes the blob of a frame the full queue refused', async () => {
    await t.queue.publish(big('fits-1'), { priority: 'live' })
    await t.queue.publish(big('fits-2'), { priority: 'live' })
    await expect(t.queue.publish(big('refused'), { priority: 'live' })).rejects.toBeInstanceOf(QueueFullError)
    expect(await blobFiles(blobDir)).toHaveLength(2)
  })
})
