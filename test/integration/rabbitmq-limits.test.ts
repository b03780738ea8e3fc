/**
 * The frame queue's limits on a real RabbitMQ: live frames that wait past LIVE_FRAME_TTL_MS are
 * dead-lettered as expired, and a full queue refuses publishes with QueueFullError without losing
 * any frame it accepted.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection } from 'rabbitmq-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueueError } from '../../server/queue/errors.ts'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { testQueue, type TestQueue } from '../helpers/rabbit-queue.ts'
import { waitFor } from '../helpers/wait.ts'
import { type DeadLetter, type QueueMessage, QueueFullError } from '../../server/queue/types.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[rabbitmq-limits] AMQP_URL is not set: the TTL and queue-length tests are skipped')

const frame = (id: string): QueueMessage => ({ id, headers: { line: 'line-1', station: 'st-1' }, body: new Uint8Array(100 * 1024).fill(7) })

describe.skipIf(!amqpUrl)('frame queue limits on RabbitMQ', () => {
  let vhost: TestVhost
  let blobDir: string
  const open: TestQueue[] = []
  const make = async (overrides: Parameters<typeof testQueue>[2]) => {
    const t = await testQueue(vhost, blobDir, overrides)
    open.push(t)
    return t
  }
  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl as string)
    blobDir = await mkdtemp(join(tmpdir(), 'linesight-limits-'))
  })
  afterAll(async () => {
    await Promise.all(open.map((t) => t.queue.close()))
    await vhost?.drop()
    if (blobDir) await rm(blobDir, { recursive: true, force: true })
  })

  it('dead-letters as expired every live frame nobody took within LIVE_FRAME_TTL_MS, and keeps batch frames', async () => {
    const t = await make({ prefix: 'ttl', liveTtlMs: 400 })
    const dead: DeadLetter[] = []
    t.queue.onDeadLetter((d) => dead.push(d))
    const live = Array.from({ length: 20 }, (_, i) => frame(`live-${i}`))
    for (const m of live) await t.queue.publish(m, { priority: 'live' })
    await t.queue.publish(frame('upload-1'), { priority: 'batch' })
    await waitFor(async () => (await t.queue.depth()).live === 0 && dead.length === 20, { what: 'every live frame to expire' })
    expect(dead.every((d) => d.reason === 'expired' && d.priority === 'live')).toBe(true)
    expect(new Set(dead.map((d) => d.message.id))).toEqual(new Set(live.map((m) => m.id)))
    expect(await t.queue.depth()).toMatchObject({ live: 0, batch: 1, deadLetters: 20 })
    // a worker starting now gets the upload and none of the stale live frames
    const seen: string[] = []
    await t.queue.consume(async (d) => {
      seen.push(d.message.id)
    }, { prefetch: 4 })
    await waitFor(() => seen.length === 1, { what: 'the batch frame' })
    expect(seen).toEqual(['upload-1'])
  })

  it('refuses exactly the frames beyond QUEUE_MAX_LENGTH, and every accepted one is consumed', async () => {
    const t = await make({ prefix: 'full', maxLength: { live: 10, batch: 10 } })
    const outcomes: string[] = []
    for (let i = 0; i < 15; i++) {
      outcomes.push(await t.queue.publish(frame(`f${i}`), { priority: 'live' }).then(() => 'ok', (e: unknown) => (e instanceof QueueFullError ? 'full' : `error ${String(e)}`)))
    }
    expect(outcomes).toEqual([...Array(10).fill('ok'), ...Array(5).fill('full')])
    expect(await t.queue.depth()).toMatchObject({ live: 10 })
    const seen: string[] = []
    await t.queue.consume(async (d) => {
      seen.push(d.message.id)
    }, { prefetch: 3 })
    await waitFor(() => seen.length === 10, { what: 'the ten accepted frames' })
    await waitFor(async () => (await t.queue.depth()).unacked === 0, { what: 'their acks' })
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`))
    expect(await t.queue.depth()).toMatchObject({ live: 0, deadLetters: 0 })
  })

  it('answers every publish of a concurrent burst into a full queue, and loses none it confirmed', async () => {
    const t = await make({ prefix: 'burst', maxLength: { live: 10, batch: 10 } })
    const ids = Array.from({ length: 60 }, (_, i) => `b${i}`)
    const settled = await Promise.allSettled(ids.map((id) => t.queue.publish(frame(id), { priority: 'live' })))
    const accepted = ids.filter((_, i) => settled[i].status === 'fulfilled')
    const refusals = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown)
    expect(refusals.every((e) => e instanceof QueueFullError)).toBe(true)
    expect(accepted.length + refusals.length).toBe(ids.length)
    // a quorum queue learns it is over its limit after the fact, so a burst can overshoot it
    expect(accepted.length).toBeGreaterThanOrEqual(10)
    console.info(`[rabbitmq-limits] a burst of ${ids.length} publishes into room for 10: ${accepted.length} confirmed, ${refusals.length} refused`)
    const seen: string[] = []
    await t.queue.consume(async (d) => {
      seen.push(d.message.id)
    }, { prefetch: 8 })
    await waitFor(async () => seen.length === accepted.length && (await t.queue.depth()).live === 0, { what: 'every confirmed frame' })
    expect([...seen].sort()).toEqual([...accepted].sort())
  })

  it('refuses to start against a queue declared with other limits, saying which', async () => {
    await make({ prefix: 'mismatch', maxLength: { live: 10, batch: 10 } })
    const err = await make({ prefix: 'mismatch', maxLength: { live: 20, batch: 10 } }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(QueueError)
    expect((err as QueueError).code).toBe('topology_mismatch')
    expect((err as QueueError).message).toMatch(/mismatch\.frames\.live .*QUEUE_MAX_LENGTH/)
  })

  it('rejects a publish the broker cannot route instead of losing it', async () => {
    const t = await make({ prefix: 'unroutable' })
    await t.queue.publish(frame('routed'), { priority: 'live' })
    // someone removes the binding behind the running gateway's back
    const admin = new Connection(vhost.url)
    try {
      await admin.queueUnbind({ queue: 'unroutable.frames.live', exchange: 'unroutable.frames', routingKey: 'line.#' })
    } finally {
      await admin.close()
    }
    const err = await t.queue.publish(frame('lost?'), { priority: 'live' }).then(() => undefined, (e: unknown) => e)
    expect((err as QueueError).code).toBe('unroutable')
    expect(await t.queue.depth()).toMatchObject({ live: 1 })
  })
})
