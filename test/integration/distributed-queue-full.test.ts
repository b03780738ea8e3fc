/**
 * A full live queue in distributed mode: no worker consumes (none is started, which is how a
 * deployment whose workers are all gone or busy looks to the broker) and QUEUE_MAX_LENGTH is
 * small. The broker refuses frames beyond the limit (reject-publish), the gateway tells the
 * station `busy` for each of them, and none disappears: every frame is either queued (and gets
 * its result once a worker runs) or refused.
 *
 * A quorum queue learns it is over its limit after the fact, so a burst may overshoot it
 * (server/queue/rabbitmq.ts): the test checks the accounting, not an exact count. The queue is
 * filled to its limit first (on a loaded machine a single burst of 80 could all land before the
 * queue counted any of them), then the rest come at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl, createCluster, noteSkip, resultsOfLine, type Cluster } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import type { RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-queue-full')

const LIMIT = 20
const FRAMES = 80
const LIVE_QUEUE = 'linesight.frames.live'
const samples = loadSamples()

describe.skipIf(!amqpUrl)('a full live queue with gateway and worker processes', () => {
  let cluster: Cluster
  let gateway: RunningServer
  beforeAll(async () => {
    cluster = await createCluster({ QUEUE_MAX_LENGTH: String(LIMIT), STATION_CREDIT: String(FRAMES) })
    gateway = await cluster.gateway()
  })
  afterAll(async () => {
    await cluster?.teardown()
  })

  it('answers busy beyond the limit and loses no frame', { timeout: 300_000 }, async () => {
    const station = await StationClient.connect(gateway.url, { line: 'L-full', station: 'S-1' })
    const frames = Array.from({ length: FRAMES }, (_, i) => ({ frameId: `full-${i}`, bytes: samples[i % samples.length]!.bytes }))
    const first = frames.slice(0, LIMIT)
    await station.sendAll(first, { window: FRAMES })
    await waitFor(() => first.every((f) => station.acks.has(f.frameId)), { timeoutMs: 60_000, what: 'an ack for each of the first frames' })
    expect(first.filter((f) => station.ackStatus(f.frameId) !== 'accepted')).toEqual([])
    await cluster.broker.settledCounts(LIVE_QUEUE, (c) => c.ready === LIMIT)
    await station.sendAll(frames.slice(LIMIT), { window: FRAMES })
    await waitFor(() => frames.every((f) => station.acks.has(f.frameId)), { timeoutMs: 60_000, what: 'an ack for every frame' })

    const accepted = frames.map((f) => f.frameId).filter((id) => station.ackStatus(id) === 'accepted')
    const busy = frames.map((f) => f.frameId).filter((id) => station.ackStatus(id) === 'busy')
    console.info(`[distributed-queue-full] ${LIMIT} frames, then ${FRAMES - LIMIT} at once, into room for ${LIMIT}: ${accepted.length} accepted, ${busy.length} busy`)
    expect(accepted.length + busy.length).toBe(FRAMES)
    expect(accepted.length).toBeGreaterThanOrEqual(LIMIT)
    expect(busy.length).toBeGreaterThan(0)
    for (const id of busy) expect(station.acks.get(id)!.at(-1)!.error, id).toMatchObject({ code: 'busy', message: expect.stringMatching(/queue is full/) })
    // the broker holds exactly the frames the station was told are queued
    const queued = await cluster.broker.settledCounts(LIVE_QUEUE, (c) => c.ready === accepted.length)
    expect(queued).toEqual({ ready: accepted.length, unacked: 0 })

    await cluster.worker()
    await station.settled(240_000)
    expect(station.tally().result.sort()).toEqual([...accepted].sort())
    for (const id of accepted) expect(station.results.get(id), id).toHaveLength(1)
    const stored = await resultsOfLine(gateway.url, 'L-full')
    expect(stored.map((r) => r.frameId).sort()).toEqual([...accepted].sort())
    expect(station.errors).toEqual([])
    await station.close()
  })
})
