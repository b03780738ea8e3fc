/**
 * A poison frame in distributed mode: bytes that pass the envelope (a valid header, image/jpeg)
 * but that no worker can decode. The worker process fails it on every attempt; after the delivery
 * limit it is dead-lettered with the worker's reason, the station gets an error result for it,
 * the admin API lists it and `linesight_dead_letters_total` counts it once across the processes,
 * while the healthy frames sent around it all get their normal result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl, createCluster, metricValue, noteSkip, resultsOfLine, type Cluster } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import type { RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-poison')

const DELIVERY_LIMIT = 3
const samples = loadSamples()
// a JPEG's first bytes, then noise: the envelope and the gateway accept it, the decoder never will
const poisonBytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 0x5a)])

describe.skipIf(!amqpUrl)('a poison frame across gateway and worker processes', () => {
  let cluster: Cluster
  let gateway: RunningServer
  let worker: RunningServer
  beforeAll(async () => {
    cluster = await createCluster({ QUEUE_DELIVERY_LIMIT: String(DELIVERY_LIMIT), STATION_CREDIT: '64' })
    gateway = await cluster.gateway()
    worker = await cluster.worker()
  })
  afterAll(async () => {
    await cluster?.teardown()
  })

  it('dead-letters it after the delivery limit with its reason, tells the station, and leaves the frames around it alone', { timeout: 180_000 }, async () => {
    const station = await StationClient.connect(gateway.url, { line: 'L-poison', station: 'S-1' })
    const frames = Array.from({ length: 31 }, (_, i) => (i === 15 ? { frameId: 'poison-1', bytes: poisonBytes } : { frameId: `healthy-${i}`, bytes: samples[i % samples.length]!.bytes }))
    await station.sendAll(frames, { window: 8 })
    await station.settled(120_000)

    const tally = station.tally()
    expect(tally.busy).toEqual([])
    expect(tally.rejected).toEqual([])
    expect(tally.result).toHaveLength(frames.length)
    for (const f of frames) {
      const [result, ...more] = station.results.get(f.frameId)!
      expect(more, f.frameId).toEqual([])
      if (f.frameId === 'poison-1') {
        // nobody inspected the part: it fails, and the reason travels with the result
        expect(result).toMatchObject({ verdict: 'fail', detections: [], error: { code: 'undecodable' } })
      } else {
        expect(result!.error, f.frameId).toBeUndefined()
        expect(result!.model.name).toBe('detector')
      }
    }
    expect(station.acks.get('poison-1')?.map((a) => a.status)).toEqual(['accepted'])

    // the worker tried exactly DELIVERY_LIMIT times, then gave up
    const attempts = worker.logs.filter((l) => l.frameId === 'poison-1' && l.msg === 'frame failed; nacked for redelivery').map((l) => l.attempt)
    expect(attempts).toEqual([1, 2, 3])

    const res = await gateway.admin('/api/v1/admin/dead-letters')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { queue: string; kept: number; deadLetters: { id: string; reason: string; error?: string; line: string; station: string; ageMs: number; bytes: number }[] }
    expect(body.queue).toBe('rabbitmq')
    expect(body.deadLetters).toHaveLength(1)
    expect(body.deadLetters[0]).toMatchObject({ id: 'poison-1', reason: 'delivery-limit', line: 'L-poison', station: 'S-1', bytes: poisonBytes.length })
    expect(body.deadLetters[0]!.error).toMatch(/^undecodable: /)
    expect(body.deadLetters[0]!.ageMs).toBeGreaterThanOrEqual(0)

    // counted once, by whichever process the broker handed the dead-letter event to
    const counted = async () => {
      let sum = 0
      for (const p of [gateway, worker]) sum += metricValue(await (await p.admin(`/metrics`)).text(), 'linesight_dead_letters_total', { reason: 'delivery-limit' })
      return sum
    }
    await waitFor(async () => (await counted()) >= 1, { what: 'the dead letter in the metrics' })
    expect(await counted()).toBe(1)

    // one record per frame in the shared store; the poison's record is its error
    const stored = await resultsOfLine(gateway.url, 'L-poison')
    expect(stored.map((r) => r.frameId).sort()).toEqual(frames.map((f) => f.frameId).sort())
    expect(stored.filter((r) => r.error).map((r) => [r.frameId, r.error!.code])).toEqual([['poison-1', 'undecodable']])
    expect(station.errors).toEqual([])
    expect(station.protocolErrors).toEqual([])
    await station.close()
  })
})
