/**
 * The results bus on a real RabbitMQ: a result reaches only the gateways interested in its line.
 * Each bus here stands for one gateway process (its own connection and queue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { waitFor } from '../helpers/wait.ts'
import { RabbitResultBus } from '../../server/results/rabbitmq-bus.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[rabbitmq-results-bus] AMQP_URL is not set: the results bus tests are skipped')

let n = 0
function result(line: string, station = 'st-1'): InspectionResult {
  return {
    frameId: `frame-${++n}-${Math.random().toString(36).slice(2, 8)}`,
    line,
    station,
    capturedAt: Date.now(),
    model: { name: 'detector', version: '1' },
    inferredAt: 'server',
    ep: 'cpu',
    detections: [],
    verdict: 'pass',
    timings: { infer: 3.5 },
  }
}

describe.skipIf(!amqpUrl)('RabbitMQ results bus', () => {
  let vhost: TestVhost
  const buses: RabbitResultBus[] = []
  const errors: string[] = []
  const bus = (name: string, prefix: string) => {
    const b = new RabbitResultBus({ url: vhost.url, prefix, publishTimeoutMs: 10_000, connectionName: name, onError: (err, context) => errors.push(`${context}: ${String(err)}`) })
    buses.push(b)
    return b
  }
  /** A gateway: subscribed, receiving what its interest lets through. */
  const gateway = (name: string, prefix: string) => {
    const b = bus(name, prefix)
    const got: InspectionResult[] = []
    b.subscribe((r) => got.push(r))
    return { bus: b, got }
  }
  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl as string)
  })
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()))
    await vhost?.drop()
  })

  it('delivers a result only to the gateways interested in its line', async () => {
    const a = gateway('gateway a', 'route')
    const b = gateway('gateway b', 'route')
    const both = gateway('gateway both', 'route')
    await a.bus.setInterest(['line-1'])
    await b.bus.setInterest(['line-2'])
    await both.bus.setInterest(['line-1', 'line-2'])
    await Promise.all([a.bus.ready(), b.bus.ready(), both.bus.ready()])
    // a worker only publishes
    const worker = bus('worker', 'route')
    // "a" is a prefix of "a.b" as a string, and its own word as a routing key must not match it
    const sent = [result('line-1'), result('line-2'), result('line-3'), result('line-1', 'st.9'), result('line-1.x'), result('line-2')]
    for (const r of sent) await worker.publish(r)
    // each gateway's queue keeps publish order: the last result of its lines arriving means every
    // earlier one, wanted or not, has arrived too
    await waitFor(() => a.got.some((r) => r.frameId === sent[3].frameId), { what: 'line-1 results at gateway a' })
    await waitFor(() => b.got.some((r) => r.frameId === sent[5].frameId), { what: 'line-2 results at gateway b' })
    await waitFor(() => both.got.some((r) => r.frameId === sent[5].frameId), { what: 'all results at gateway both' })
    expect(a.got.map((r) => r.frameId)).toEqual([sent[0].frameId, sent[3].frameId])
    expect(b.got.map((r) => r.frameId)).toEqual([sent[1].frameId, sent[5].frameId])
    expect(both.got.map((r) => r.frameId)).toEqual([sent[0].frameId, sent[1].frameId, sent[3].frameId, sent[5].frameId])
    expect(a.got[0]).toEqual(sent[0])
  })

  it('follows a change of interest', async () => {
    const g = gateway('gateway moving', 'interest')
    await g.bus.setInterest(['line-1'])
    await g.bus.ready()
    const worker = bus('worker', 'interest')
    const before = result('line-1')
    await worker.publish(before)
    await waitFor(() => g.got.length === 1, { what: 'the line-1 result' })
    await g.bus.setInterest(['line-2'])
    const dropped = result('line-1')
    const wanted = result('line-2')
    await worker.publish(dropped)
    await worker.publish(wanted)
    await waitFor(() => g.got.length === 2, { what: 'the line-2 result' })
    expect(g.got.map((r) => r.frameId)).toEqual([before.frameId, wanted.frameId])
  })

  it('binds its interest again on the queue it declares after a connection cut', async () => {
    const g = gateway('gateway cut', 'cut')
    await g.bus.setInterest(['line-1'])
    await g.bus.ready()
    await vhost.cutConnections()
    // the worker's bus connects after the cut, so only the gateway had to reconnect
    const worker = bus('worker after cut', 'cut')
    const r = result('line-1')
    // results published before the gateway's new queue is bound are not kept for it (by design);
    // keep publishing until one arrives, then check that nothing of another line does
    await waitFor(async () => {
      await worker.publish(result('line-1'))
      return g.got.length > 0
    }, { what: 'a result after the reconnect', intervalMs: 100, retryErrors: true })
    await worker.publish(result('line-2'))
    await worker.publish(r)
    await waitFor(() => g.got.some((x) => x.frameId === r.frameId), { what: 'the last result' })
    expect(g.got.every((x) => x.line === 'line-1')).toBe(true)
    // the cut was reported, not swallowed
    expect(errors.some((e) => e.includes('CONNECTION_FORCED'))).toBe(true)
  })

  it('delivers every result to a subscriber that has not declared an interest yet', async () => {
    const g = gateway('gateway without interest', 'all')
    await g.bus.ready()
    const worker = bus('worker', 'all')
    const sent = [result('line-1'), result('line-9', 'st.2')]
    for (const r of sent) await worker.publish(r)
    await waitFor(() => g.got.length === 2, { what: 'both results' })
    expect(g.got.map((r) => r.frameId)).toEqual(sent.map((r) => r.frameId))
    await g.bus.setInterest(['line-9'])
    const after = [result('line-1'), result('line-9')]
    for (const r of after) await worker.publish(r)
    await waitFor(() => g.got.length === 3, { what: 'the line-9 result' })
    expect(g.got[2].frameId).toBe(after[1].frameId)
  })
})
