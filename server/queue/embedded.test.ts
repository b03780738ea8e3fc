import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config/index.ts'
import { EmbeddedQueue, embeddedOptionsFromConfig } from './embedded.ts'
import { queueContract } from '../../test/contracts/queue.ts'
import { waitFor } from '../../test/helpers/wait.ts'
import { type DeadLetter, QueueFullError } from './types.ts'

queueContract('embedded', async (opts) => new EmbeddedQueue({ ...opts, deadLetterMax: 100 }))

const options = { maxLength: { live: 100_000, batch: 100_000 }, deliveryLimit: 3, liveTtlMs: 60_000, deadLetterMax: 3 }
const message = (id: string) => ({ id, headers: {}, body: new Uint8Array(8) })

describe('EmbeddedQueue', () => {
  it('keeps the newest dead letters and counts the ones it dropped', async () => {
    const q = new EmbeddedQueue(options)
    const seen: DeadLetter[] = []
    q.onDeadLetter((d) => seen.push(d))
    await q.consume((d) => d.nack({ requeue: false, reason: 'bad' }), { prefetch: 1 })
    for (let i = 0; i < 5; i++) await q.publish(message(`f${i}`), { priority: 'batch' })
    await waitFor(() => seen.length === 5, { what: 'five dead letters' })
    expect((await q.listDeadLetters()).map((d) => d.message.id)).toEqual(['f2', 'f3', 'f4'])
    expect(await q.depth()).toMatchObject({ deadLetters: 3, deadLettersEvicted: 2 })
    expect(await q.requeueDeadLetter('f0')).toBe(false)
    await q.close()
  })

  it('expires a frame with a short TTL that waits behind frames with longer ones', async () => {
    const q = new EmbeddedQueue({ ...options, liveTtlMs: 60_000 })
    await q.publish(message('long'), { priority: 'live' })
    await q.publish(message('short'), { priority: 'live', ttlMs: 100 })
    await q.publish(message('long-too'), { priority: 'live' })
    const dead = await waitFor(async () => {
      const l = await q.listDeadLetters()
      return l.length ? l : undefined
    }, { what: 'the short-lived frame to expire' })
    expect(dead.map((d) => [d.message.id, d.reason])).toEqual([['short', 'expired']])
    expect(await q.depth()).toMatchObject({ live: 2 })
    await q.close()
  })

  it('reports a listener that throws and still dead-letters the frame', async () => {
    const reported: string[] = []
    const q = new EmbeddedQueue({ ...options, onError: (_err, context) => reported.push(context) })
    q.onDeadLetter(() => {
      throw new Error('listener bug')
    })
    await q.consume((d) => d.nack({ requeue: false }), { prefetch: 1 })
    await q.publish(message('x'), { priority: 'live' })
    await waitFor(() => reported.length === 1, { what: 'the report' })
    expect(reported).toEqual(['onDeadLetter listener'])
    expect(await q.depth()).toMatchObject({ deadLetters: 1 })
    await q.close()
  })

  it('spreads deliveries over consumers that have room', async () => {
    const q = new EmbeddedQueue(options)
    const byConsumer = [0, 0]
    const holds: (() => void)[] = []
    for (const c of [0, 1]) {
      await q.consume(async () => {
        byConsumer[c]++
        await new Promise<void>((resolve) => holds.push(resolve))
      }, { prefetch: 2 })
    }
    try {
      for (let i = 0; i < 6; i++) await q.publish(message(`m${i}`), { priority: 'live' })
      await waitFor(() => holds.length === 4, { what: 'both consumers full' })
      expect(byConsumer).toEqual([2, 2])
      expect(await q.depth()).toMatchObject({ live: 2, unacked: 4 })
      for (const release of holds.splice(0)) release()
      await waitFor(() => holds.length === 2, { what: 'the last two' })
    } finally {
      // released even when an expectation failed, so close() does not wait forever
      for (const release of holds.splice(0)) release()
      await q.close()
    }
  })

  it('takes its limits from the settings', async () => {
    const q = new EmbeddedQueue(embeddedOptionsFromConfig(loadConfig({ QUEUE_MAX_LENGTH: '2', BATCH_QUEUE_MAX_LENGTH: '1', QUEUE_DEAD_LETTER_MAX: '5' })))
    await q.publish(message('a'), { priority: 'live' })
    await q.publish(message('b'), { priority: 'live' })
    await expect(q.publish(message('c'), { priority: 'live' })).rejects.toBeInstanceOf(QueueFullError)
    await q.publish(message('d'), { priority: 'batch' })
    await expect(q.publish(message('e'), { priority: 'batch' })).rejects.toBeInstanceOf(QueueFullError)
    await q.close()
  })
})
