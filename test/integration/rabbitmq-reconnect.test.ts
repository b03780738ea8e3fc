/**
 * Connection loss on a real RabbitMQ: the broker closes every connection of the test vhost (as a
 * broker restart or a network cut would) while frames flow. Publisher and consumer reconnect by
 * themselves, every confirmed frame is consumed, and a publish either confirms or fails with a
 * reason: none vanishes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QueueError } from '../../server/queue/errors.ts'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { testQueue, type TestQueue } from '../helpers/rabbit-queue.ts'
import { gate } from '../helpers/gate.ts'
import { waitFor } from '../helpers/wait.ts'
import type { QueueMessage } from '../../server/queue/types.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[rabbitmq-reconnect] AMQP_URL is not set: the connection-loss tests are skipped')

const frame = (id: string): QueueMessage => ({ id, headers: { line: 'line-1', station: 'st-1' }, body: new Uint8Array(20 * 1024).fill(3) })

describe.skipIf(!amqpUrl)('connection loss on RabbitMQ', () => {
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
    blobDir = await mkdtemp(join(tmpdir(), 'linesight-reconnect-'))
  })
  afterAll(async () => {
    await vhost?.allowAccess()
    await Promise.all(open.map((t) => t.queue.close()))
    await vhost?.drop()
    if (blobDir) await rm(blobDir, { recursive: true, force: true })
  })

  it('reconnects publisher and consumer by themselves and consumes every confirmed frame', async () => {
    const gateway = await make({ prefix: 'cut', maxLength: { live: 10_000, batch: 10_000 } })
    const worker = await make({ prefix: 'cut', maxLength: { live: 10_000, batch: 10_000 } })
    const consumed = new Map<string, number>()
    await worker.queue.consume(async (d) => {
      consumed.set(d.message.id, (consumed.get(d.message.id) ?? 0) + 1)
    }, { prefetch: 4 })

    const outcome = new Map<string, string>()
    const confirmedCount = () => [...outcome.values()].filter((o) => o === 'ok').length
    let next = 0
    let stop = false
    const lane = async () => {
      while (!stop) {
        const id = `f${next++}`
        outcome.set(id, 'pending')
        outcome.set(id, await gateway.queue.publish(frame(id), { priority: 'live' }).then(() => 'ok', (e: unknown) => (e instanceof QueueError ? e.code : `unexpected ${String(e)}`)))
      }
    }
    const lanes = Promise.all(Array.from({ length: 8 }, lane))
    // cut twice while publishes are in flight, and let each cut be followed by more confirmed frames
    for (const after of [100, 300, 500]) {
      await waitFor(() => confirmedCount() >= after, { what: `${after} confirmed frames`, timeoutMs: 30_000 })
      if (after < 500) await vhost.cutConnections()
    }
    stop = true
    await lanes
    const total = outcome.size
    const confirmed = [...outcome].filter(([, o]) => o === 'ok').map(([id]) => id)
    const failed = [...outcome].filter(([, o]) => o !== 'ok')
    // a publish cut off mid-way is sent again after the reconnect, within the publish timeout
    expect(failed.map(([, o]) => o).filter((o) => o !== 'unavailable')).toEqual([])
    await waitFor(() => confirmed.every((id) => consumed.has(id)), { what: 'every confirmed frame to be consumed', timeoutMs: 30_000 })
    const duplicates = [...consumed.values()].filter((n) => n > 1).length
    console.info(`[rabbitmq-reconnect] ${total} publishes across two connection cuts: ${confirmed.length} confirmed, ${failed.length} failed (unavailable), ${duplicates} consumed more than once`)
    await waitFor(() => gateway.queue.isReady() && worker.queue.isReady(), { what: 'both connections back' })
    // the cuts were seen and reported, not swallowed
    expect(gateway.errors.some((e) => e.includes('CONNECTION_FORCED'))).toBe(true)
    expect(worker.errors.some((e) => e.includes('CONNECTION_FORCED'))).toBe(true)
  })

  it('delivers again a frame whose ack was cut off, and its late ack rejects with settle_failed', async () => {
    const t = await make({ prefix: 'late-ack' })
    const attempts: number[] = []
    const lateAcks: string[] = []
    const firstArrived = gate()
    const inferenceDone = gate()
    await t.queue.consume(async (d) => {
      attempts.push(d.attempt)
      if (d.attempt === 1) {
        firstArrived.open()
        // the worker is still inferring when its connection goes
        await inferenceDone.promise
        lateAcks.push(await d.ack().then(() => 'acked', (e: unknown) => (e as QueueError).code))
      }
    }, { prefetch: 1 })
    try {
      await t.queue.publish(frame('slow'), { priority: 'batch' })
      await firstArrived.promise
      await vhost.cutConnections()
      await waitFor(() => t.queue.isReady(), { what: 'the reconnect' })
    } finally {
      // the busy worker keeps its only slot until its inference ends; then the broker's copy comes
      // (released on failure too, so closing the queue does not wait for it forever)
      inferenceDone.open()
    }
    await waitFor(() => attempts.length === 2, { what: 'the redelivery after the reconnect' })
    expect(lateAcks).toEqual(['settle_failed'])
    expect(attempts).toEqual([1, 2])
    await waitFor(async () => {
      const d = await t.queue.depth()
      return d.unacked === 0 && d.batch === 0
    }, { what: 'the second attempt acked' })
    expect(t.errors.some((e) => e.includes('CONNECTION_FORCED'))).toBe(true)
  })

  it('fails a publish with unavailable when the broker stays away past the publish timeout, and publishes again once it is back', async () => {
    const gatewayQ = await make({ prefix: 'outage', publishTimeoutMs: 1500 })
    const workerQ = await make({ prefix: 'outage' })
    const seen: string[] = []
    await workerQ.queue.consume(async (d) => {
      seen.push(d.message.id)
    }, { prefetch: 1 })
    await gatewayQ.queue.publish(frame('before'), { priority: 'live' })
    await waitFor(() => seen.includes('before'), { what: 'the first frame' })

    await vhost.denyAccess()
    await vhost.cutConnections()
    await waitFor(() => !gatewayQ.queue.isReady(), { what: 'the gateway to notice' })
    const during = await gatewayQ.queue.publish(frame('during'), { priority: 'live' }).then(() => 'ok', (e: unknown) => (e as QueueError).code)
    expect(during).toBe('unavailable')

    await vhost.allowAccess()
    await waitFor(() => gatewayQ.queue.isReady() && workerQ.queue.isReady(), { what: 'both to reconnect', timeoutMs: 30_000 })
    await gatewayQ.queue.publish(frame('after'), { priority: 'live' })
    await waitFor(() => seen.includes('after'), { what: 'the frame after the outage', timeoutMs: 30_000 })
    // one queue, in order: had "during" been queued, it would have come before "after"
    expect(seen).toEqual(['before', 'after'])
  })
})
