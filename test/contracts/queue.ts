/**
 * The suite every FrameQueue passes (types.ts states the semantics). `embedded.test.ts` runs it
 * against the embedded queue, `test/integration/queue-rabbitmq.test.ts` against RabbitMQ.
 * Each test gets a fresh queue from `factory`; the suite closes it afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { QueueError } from '../../server/queue/errors.ts'
import { gate } from '../helpers/gate.ts'
import { waitFor } from '../helpers/wait.ts'
import { type Delivery, type DeadLetter, type FrameQueue, type Priority, type QueueMessage, QueueClosedError, QueueFullError } from '../../server/queue/types.ts'

export interface ContractOptions {
  maxLength: Record<Priority, number>
  deliveryLimit: number
  liveTtlMs: number
}

export type QueueFactory = (opts: ContractOptions) => Promise<FrameQueue>

const DEFAULTS: ContractOptions = { maxLength: { live: 100, batch: 100 }, deliveryLimit: 3, liveTtlMs: 60_000 }

let seq = 0
function frame(tag: string, extra: Record<string, string | number | boolean> = {}): QueueMessage {
  const id = `${tag}-${++seq}-${Math.random().toString(36).slice(2, 8)}`
  const body = new TextEncoder().encode(`bytes of ${id}`)
  return { id, headers: { line: 'line-1', station: 'st-1', ...extra }, body }
}

const bytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export function queueContract(name: string, factory: QueueFactory): void {
  describe(`FrameQueue contract: ${name}`, () => {
    const open: FrameQueue[] = []
    const make = async (opts: Partial<ContractOptions> = {}) => {
      const q = await factory({ ...DEFAULTS, ...opts, maxLength: { ...DEFAULTS.maxLength, ...opts.maxLength } })
      open.push(q)
      return q
    }
    // handlers a test holds open are released before the queues close, or a failed test would
    // leave close() waiting for them
    const releases: (() => void)[] = []
    const held = () => {
      const g = gate()
      releases.push(g.open)
      return g
    }
    afterEach(async () => {
      for (const release of releases.splice(0)) release()
      await Promise.all(open.splice(0).map((q) => q.close()))
    })

    it('delivers frames in publish order with their headers and bytes', async () => {
      const q = await make()
      const sent = Array.from({ length: 20 }, (_, i) => frame('order', { n: i, ratio: i + 0.5, audit: i % 2 === 0, capturedAt: 1_760_000_000_000 + i }))
      for (const m of sent) await q.publish(m, { priority: 'live' })
      const got: QueueMessage[] = []
      await q.consume(async (d) => {
        got.push({ id: d.message.id, headers: { ...d.message.headers }, body: new Uint8Array(d.message.body) })
        expect(d.attempt).toBe(1)
        expect(d.priority).toBe('live')
      }, { prefetch: 1 })
      await waitFor(() => got.length === sent.length, { what: 'all frames' })
      expect(got.map((m) => m.id)).toEqual(sent.map((m) => m.id))
      for (const [i, m] of got.entries()) {
        expect(m.headers).toEqual(sent[i].headers)
        expect(bytes(m.body)).toBe(bytes(sent[i].body))
      }
      await waitFor(async () => {
        const d = await q.depth()
        return d.live === 0 && d.batch === 0 && d.unacked === 0 && d.deadLetters === 0
      }, { what: 'an empty queue' })
    })

    it('gives each delivery bytes of its own, which the handler may transfer away', async () => {
      const q = await make()
      const small = frame('small')
      const large: QueueMessage = { id: `large-${++seq}`, headers: { line: 'line-1' }, body: new Uint8Array(100 * 1024).map((_, i) => i % 253) }
      await q.publish(small, { priority: 'live' })
      await q.publish(large, { priority: 'live' })
      const second = new Map<string, string>()
      const moved: string[] = []
      await q.consume(async (d) => {
        if (d.attempt === 1) {
          // what the inference engine does with the bytes: move them to a worker thread
          structuredClone(d.message.body.buffer, { transfer: [d.message.body.buffer] })
          if (d.message.body.byteLength === 0) moved.push(d.message.id)
          await d.nack({ requeue: true, reason: 'worker crashed' })
        } else {
          second.set(d.message.id, bytes(d.message.body))
        }
      }, { prefetch: 2 })
      await waitFor(() => second.size === 2, { what: 'both redeliveries' })
      expect(new Set(moved)).toEqual(new Set([small.id, large.id]))
      expect(second.get(small.id)).toBe(bytes(small.body))
      expect(second.get(large.id)).toBe(bytes(large.body))
    })

    it('serves every waiting live frame before any batch frame', async () => {
      const q = await make()
      const batch = [frame('batch'), frame('batch'), frame('batch')]
      const live = [frame('live'), frame('live'), frame('live')]
      for (const m of batch) await q.publish(m, { priority: 'batch' })
      for (const m of live) await q.publish(m, { priority: 'live' })
      await waitFor(async () => {
        const d = await q.depth()
        return d.live === 3 && d.batch === 3
      }, { what: 'three waiting frames of each priority' })
      const order: string[] = []
      await q.consume(async (d) => {
        order.push(`${d.priority}:${d.message.id}`)
      }, { prefetch: 1 })
      await waitFor(() => order.length === 6, { what: 'all six frames' })
      expect(order).toEqual([...live.map((m) => `live:${m.id}`), ...batch.map((m) => `batch:${m.id}`)])
    })

    it('never has more than prefetch deliveries unacknowledged', async () => {
      const q = await make()
      for (let i = 0; i < 10; i++) await q.publish(frame('prefetch'), { priority: 'live' })
      const holding: { d: Delivery; release: () => void }[] = []
      let inFlight = 0
      let maxInFlight = 0
      let done = 0
      await q.consume(async (d) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        const g = held()
        holding.push({ d, release: g.open })
        await g.promise
        inFlight--
        await d.ack()
        done++
      }, { prefetch: 3 })
      await waitFor(() => holding.length === 3, { what: 'three deliveries' })
      await waitFor(async () => (await q.depth()).live === 7, { what: 'seven frames still waiting' })
      expect((await q.depth()).unacked).toBe(3)
      expect(holding.length).toBe(3)
      for (let released = 0; released < 10; released++) {
        await waitFor(() => holding[released], { what: `delivery ${released + 1}` })
        holding[released].release()
      }
      await waitFor(() => done === 10, { what: 'all ten acked' })
      expect(maxInFlight).toBe(3)
      expect(await q.depth()).toMatchObject({ live: 0, unacked: 0 })
    })

    it('redelivers a nacked frame with the next attempt number', async () => {
      const q = await make()
      const m = frame('requeue')
      await q.publish(m, { priority: 'live' })
      const attempts: number[] = []
      await q.consume(async (d) => {
        attempts.push(d.attempt)
        if (d.attempt === 1) await d.nack({ requeue: true, reason: 'transient' })
        else await d.ack()
      }, { prefetch: 1 })
      await waitFor(() => attempts.length === 2, { what: 'the redelivery' })
      expect(attempts).toEqual([1, 2])
      await waitFor(async () => (await q.depth()).unacked === 0, { what: 'the ack' })
      expect(await q.depth()).toMatchObject({ live: 0, deadLetters: 0 })
      expect(await q.listDeadLetters()).toEqual([])
    })

    it('dead-letters a frame after the delivery limit, keeping the last error', async () => {
      const q = await make({ deliveryLimit: 3 })
      const dead: DeadLetter[] = []
      q.onDeadLetter((d) => dead.push(d))
      const poison = frame('poison', { line: 'line-7' })
      await q.publish(poison, { priority: 'live' })
      const attempts: number[] = []
      await q.consume(async (d) => {
        attempts.push(d.attempt)
        await d.nack({ requeue: true, reason: `boom ${d.attempt}` })
      }, { prefetch: 1 })
      await waitFor(() => dead.length === 1, { what: 'the dead letter' })
      expect(attempts).toEqual([1, 2, 3])
      expect(dead[0]).toMatchObject({ reason: 'delivery-limit', error: 'boom 3', priority: 'live', message: { id: poison.id, headers: poison.headers } })
      expect(bytes(dead[0].message.body)).toBe(bytes(poison.body))
      const listed = await waitFor(async () => {
        const l = await q.listDeadLetters()
        return l.length === 1 ? l : undefined
      }, { what: 'the listed dead letter' })
      expect(listed[0]).toMatchObject({ reason: 'delivery-limit', error: 'boom 3', message: { id: poison.id } })
      expect(await q.depth()).toMatchObject({ live: 0, unacked: 0, deadLetters: 1 })
    })

    it('counts a handler that throws as a failed attempt', async () => {
      const q = await make({ deliveryLimit: 2 })
      const dead: DeadLetter[] = []
      q.onDeadLetter((d) => dead.push(d))
      await q.publish(frame('throws'), { priority: 'batch' })
      let calls = 0
      await q.consume(async () => {
        calls++
        throw new Error('decoder exploded')
      }, { prefetch: 1 })
      await waitFor(() => dead.length === 1, { what: 'the dead letter' })
      expect(calls).toBe(2)
      expect(dead[0]).toMatchObject({ reason: 'delivery-limit', error: 'decoder exploded', priority: 'batch' })
    })

    it('dead-letters a frame nacked without requeue at once, with its error', async () => {
      const q = await make()
      const dead: DeadLetter[] = []
      q.onDeadLetter((d) => dead.push(d))
      const m = frame('rejected')
      await q.publish(m, { priority: 'live' })
      const attempts: number[] = []
      await q.consume(async (d) => {
        attempts.push(d.attempt)
        await d.nack({ requeue: false, reason: 'undecodable: not a JPEG' })
      }, { prefetch: 1 })
      await waitFor(() => dead.length === 1, { what: 'the dead letter' })
      expect(attempts).toEqual([1])
      expect(dead[0]).toMatchObject({ reason: 'rejected', error: 'undecodable: not a JPEG', message: { id: m.id } })
      expect(dead[0].deadAt).toBeGreaterThan(0)
    })

    it('dead-letters live frames that waited past their TTL while no consumer runs', async () => {
      const q = await make({ liveTtlMs: 300 })
      const dead: DeadLetter[] = []
      q.onDeadLetter((d) => dead.push(d))
      const byDefault = frame('ttl-default')
      const shortened = frame('ttl-short')
      const keeper = frame('batch-keeps')
      await q.publish(byDefault, { priority: 'live' })
      await q.publish(shortened, { priority: 'live', ttlMs: 150 })
      await q.publish(keeper, { priority: 'batch' })
      await waitFor(async () => (await q.depth()).live === 0 && dead.length === 2, { what: 'both live frames to expire' })
      expect(dead.map((d) => d.reason)).toEqual(['expired', 'expired'])
      expect(new Set(dead.map((d) => d.message.id))).toEqual(new Set([byDefault.id, shortened.id]))
      expect(await q.depth()).toMatchObject({ live: 0, batch: 1, deadLetters: 2 })
    })

    it('rejects a frame beyond the maximum length with QueueFullError and never delivers it', async () => {
      const q = await make({ maxLength: { live: 5, batch: 5 } })
      const accepted = Array.from({ length: 5 }, () => frame('fits'))
      for (const m of accepted) await q.publish(m, { priority: 'live' })
      const refused = frame('refused')
      const err = await q.publish(refused, { priority: 'live' }).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(QueueFullError)
      expect((err as QueueFullError).code).toBe('busy')
      // the other priority has its own limit
      await q.publish(frame('batch-fits'), { priority: 'batch' })
      expect(await q.depth()).toMatchObject({ live: 5, batch: 1 })
      const got: string[] = []
      await q.consume(async (d) => {
        got.push(d.message.id)
      }, { prefetch: 2 })
      await waitFor(() => got.length === 6, { what: 'every accepted frame' })
      await waitFor(async () => (await q.depth()).unacked === 0, { what: 'the acks' })
      expect(got.slice(0, 5)).toEqual(accepted.map((m) => m.id))
      expect(got).not.toContain(refused.id)
      expect(await q.depth()).toMatchObject({ live: 0, batch: 0, deadLetters: 0 })
    })

    it('stops delivering while paused, keeps accepting frames, and delivers them on resume', async () => {
      const q = await make()
      const got: string[] = []
      const consumer = await q.consume(async (d) => {
        got.push(d.message.id)
      }, { prefetch: 2 })
      await consumer.pause()
      expect(consumer.paused).toBe(true)
      const sent = [frame('paused'), frame('paused'), frame('paused'), frame('paused')]
      for (const m of sent) await q.publish(m, { priority: 'live' })
      await waitFor(async () => (await q.depth()).live === 4, { what: 'four waiting frames' })
      expect(got).toEqual([])
      await consumer.resume()
      expect(consumer.paused).toBe(false)
      await waitFor(() => got.length === 4, { what: 'the frames after resume' })
      expect(got).toEqual(sent.map((m) => m.id))
    })

    it('puts a requeued dead letter back on its queue and forgets a discarded one', async () => {
      const q = await make()
      const a = frame('dead-a')
      const b = frame('dead-b')
      const seen: string[] = []
      const attempts = new Map<string, number[]>()
      await q.consume(async (d) => {
        seen.push(d.message.id)
        attempts.set(d.message.id, [...(attempts.get(d.message.id) ?? []), d.attempt])
        if (seen.filter((id) => id === d.message.id).length === 1) await d.nack({ requeue: false, reason: 'first time fails' })
        else await d.ack()
      }, { prefetch: 1 })
      await q.publish(a, { priority: 'batch' })
      await q.publish(b, { priority: 'live' })
      await waitFor(async () => (await q.listDeadLetters()).length === 2, { what: 'two dead letters' })
      expect(await q.requeueDeadLetter(a.id)).toBe(true)
      expect(await q.discardDeadLetter(b.id)).toBe(true)
      await waitFor(() => seen.length === 3, { what: 'the requeued frame' })
      expect(seen[2]).toBe(a.id)
      expect(attempts.get(a.id)).toEqual([1, 1])
      await waitFor(async () => (await q.depth()).unacked === 0, { what: 'the ack' })
      expect(await q.listDeadLetters()).toEqual([])
      expect(await q.depth()).toMatchObject({ live: 0, batch: 0, deadLetters: 0 })
      expect(await q.requeueDeadLetter(a.id)).toBe(false)
      expect(await q.discardDeadLetter('no-such-frame')).toBe(false)
    })

    it('rejects settling a delivery twice', async () => {
      const q = await make()
      await q.publish(frame('twice'), { priority: 'live' })
      const second = gate()
      let err: unknown
      await q.consume(async (d) => {
        await d.ack()
        err = await d.ack().then(() => undefined, (e: unknown) => e)
        second.open()
      }, { prefetch: 1 })
      await second.promise
      expect(err).toBeInstanceOf(QueueError)
      expect((err as QueueError).code).toBe('already_settled')
    })

    it('lets in-flight deliveries finish before a consumer closes, then delivers nothing to it', async () => {
      const q = await make()
      const events: string[] = []
      const holding: (() => void)[] = []
      const consumer = await q.consume(async (d) => {
        const g = held()
        holding.push(g.open)
        await g.promise
        await d.ack()
        events.push(`acked ${d.message.id}`)
      }, { prefetch: 2 })
      const first = [frame('inflight'), frame('inflight')]
      for (const m of first) await q.publish(m, { priority: 'live' })
      await waitFor(() => holding.length === 2, { what: 'two deliveries in flight' })
      const closing = consumer.close().then(() => events.push('closed'))
      // a round trip to the queue gives a close that does not wait the chance to finish early
      await q.depth()
      await q.depth()
      expect(events).toEqual([])
      for (const release of holding) release()
      await closing
      expect(events).toEqual([`acked ${first[0].id}`, `acked ${first[1].id}`, 'closed'])
      await q.publish(frame('after-close'), { priority: 'live' })
      await waitFor(async () => (await q.depth()).live === 1, { what: 'the frame to wait' })
      expect(holding.length).toBe(2)
    })

    it('refuses publishes once closed', async () => {
      const q = await make()
      expect(q.isReady()).toBe(true)
      await q.close()
      expect(q.isReady()).toBe(false)
      await expect(q.publish(frame('late'), { priority: 'live' })).rejects.toBeInstanceOf(QueueClosedError)
    })
  })
}
