/**
 * Poison frames on a real RabbitMQ: a frame that fails every attempt is dead-lettered with its
 * reason after the delivery limit, whether its handler reports the failure or its worker dies,
 * while the frames around it are processed normally.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { testQueue, type TestQueue } from '../helpers/rabbit-queue.ts'
import { waitFor } from '../helpers/wait.ts'
import type { DeadLetter, QueueMessage } from '../../server/queue/types.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[rabbitmq-poison] AMQP_URL is not set: the poison frame tests are skipped')

const crashingWorker = fileURLToPath(new URL('../helpers/crashing-worker.ts', import.meta.url))
const frame = (id: string): QueueMessage => ({ id, headers: { line: 'line-1', station: 'st-1' }, body: new TextEncoder().encode(id) })

/** Runs the crashing worker once; resolves with the delivery it took before dying. */
function crashOnce(options: object): Promise<{ id: string; attempt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', crashingWorker], { env: { ...process.env, CRASH_OPTIONS: JSON.stringify(options) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => {
      if (code !== 3) return reject(new Error(`crashing worker exited with ${code}: ${err}`))
      resolve(JSON.parse(out.trim()) as { id: string; attempt: number })
    })
  })
}

describe.skipIf(!amqpUrl)('poison frames on RabbitMQ', () => {
  let vhost: TestVhost
  let blobDir: string
  const open: TestQueue[] = []
  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl as string)
    blobDir = await mkdtemp(join(tmpdir(), 'linesight-poison-'))
  })
  afterAll(async () => {
    await Promise.all(open.map((t) => t.queue.close()))
    await vhost?.drop()
    if (blobDir) await rm(blobDir, { recursive: true, force: true })
  })

  it('dead-letters a frame that fails every attempt, while the frames around it are processed once each', async () => {
    const t = await testQueue(vhost, blobDir, { prefix: 'nack', deliveryLimit: 3 })
    open.push(t)
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    const ids = Array.from({ length: 21 }, (_, i) => (i === 10 ? 'poison' : `healthy-${i}`))
    const processed: string[] = []
    const poisonAttempts: number[] = []
    // two consumers, as two workers would be
    for (let w = 0; w < 2; w++) {
      await t.queue.consume(async (d) => {
        if (d.message.id === 'poison') {
          poisonAttempts.push(d.attempt)
          throw new Error(`undecodable: truncated JPEG (attempt ${d.attempt})`)
        }
        processed.push(d.message.id)
      }, { prefetch: 2 })
    }
    for (const id of ids) await t.queue.publish(frame(id), { priority: 'live' })
    await waitFor(() => dead.length === 1 && processed.length === 20, { what: 'twenty healthy frames and one dead letter' })
    expect([...processed].sort()).toEqual(ids.filter((id) => id !== 'poison').sort())
    expect(poisonAttempts).toEqual([1, 2, 3])
    expect(dead[0]).toMatchObject({ reason: 'delivery-limit', error: 'undecodable: truncated JPEG (attempt 3)', priority: 'live', message: { id: 'poison' } })
    const listed = await t.queue.listDeadLetters()
    expect(listed.map((d) => [d.message.id, d.reason])).toEqual([['poison', 'delivery-limit']])
    await waitFor(async () => (await t.queue.depth()).unacked === 0, { what: 'every ack' })
    expect(await t.queue.depth()).toMatchObject({ live: 0, batch: 0, deadLetters: 1 })
    expect(t.errors).toEqual([])
  })

  it('lets the broker dead-letter a frame whose worker died on every attempt', async () => {
    const t = await testQueue(vhost, blobDir, { prefix: 'crash', deliveryLimit: 2 })
    open.push(t)
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    await t.queue.publish(frame('kills-workers'), { priority: 'batch' })
    const { blobs: _blobs, onError: _onError, ...plain } = t.options
    const options = { ...plain, blobDir }
    expect(await crashOnce(options)).toEqual({ id: 'kills-workers', attempt: 1 })
    expect(await crashOnce(options)).toEqual({ id: 'kills-workers', attempt: 2 })
    await waitFor(() => dead.length === 1, { what: 'the dead letter' })
    // nobody was alive to give an error: the broker's reason is all there is
    expect(dead[0]).toMatchObject({ reason: 'delivery-limit', priority: 'batch', message: { id: 'kills-workers' } })
    expect(dead[0].error).toBeUndefined()
    expect(await t.queue.depth()).toMatchObject({ batch: 0, deadLetters: 1 })
    // and it is not delivered to a healthy worker any more
    const later = frame('after-the-poison')
    const seen: string[] = []
    await t.queue.consume(async (d) => {
      seen.push(d.message.id)
    }, { prefetch: 1 })
    await t.queue.publish(later, { priority: 'batch' })
    await waitFor(() => seen.length === 1, { what: 'the next frame' })
    expect(seen).toEqual([later.id])
  })

  it('lists dead letters without consuming them, oldest first', async () => {
    const t = await testQueue(vhost, blobDir, { prefix: 'list' })
    open.push(t)
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    await t.queue.consume((d) => d.nack({ requeue: false, reason: `bad ${d.message.id}` }), { prefetch: 1 })
    for (const id of ['d1', 'd2', 'd3', 'd4']) await t.queue.publish(frame(id), { priority: 'live' })
    await waitFor(() => dead.length === 4, { what: 'four dead letters' })
    const first = await t.queue.listDeadLetters(2)
    const all = await t.queue.listDeadLetters()
    const again = await t.queue.listDeadLetters()
    expect(first.map((d) => d.message.id)).toEqual(['d1', 'd2'])
    expect(all.map((d) => d.message.id)).toEqual(['d1', 'd2', 'd3', 'd4'])
    expect(again.map((d) => [d.message.id, d.error])).toEqual(['d1', 'd2', 'd3', 'd4'].map((id) => [id, `bad ${id}`]))
    expect(await t.queue.discardDeadLetter('d3')).toBe(true)
    expect((await t.queue.listDeadLetters()).map((d) => d.message.id)).toEqual(['d1', 'd2', 'd4'])
    expect((await t.queue.depth()).deadLetters).toBe(3)
  })
})
