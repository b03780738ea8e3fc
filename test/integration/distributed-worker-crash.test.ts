/**
 * A worker process killed with SIGKILL in the middle of a batch: the frames it held come back to
 * the queue (the broker sees its connection die), a replacement worker started afterwards takes
 * them, and every frame the station sent ends with exactly one recorded result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl, createCluster, metricValue, noteSkip, resultsOfLine, type Cluster } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import type { RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-worker-crash')

const FRAMES = 300
const LIVE_QUEUE = 'linesight.frames.live'
const samples = loadSamples()

describe.skipIf(!amqpUrl)('a worker killed mid-batch', () => {
  let cluster: Cluster
  let gateway: RunningServer
  beforeAll(async () => {
    // every frame may be in flight at once, and stays queued while no worker runs
    cluster = await createCluster({ STATION_CREDIT: String(FRAMES), QUEUE_MAX_LENGTH: String(FRAMES * 2) })
    gateway = await cluster.gateway()
  })
  afterAll(async () => {
    await cluster?.teardown()
  })

  it('gives every frame exactly one recorded result once a replacement worker runs', { timeout: 400_000 }, async () => {
    const doomed = await cluster.worker()
    const station = await StationClient.connect(gateway.url, { line: 'L-crash', station: 'S-1' })
    const frames = Array.from({ length: FRAMES }, (_, i) => ({ frameId: `crash-${i}`, bytes: samples[i % samples.length]!.bytes }))
    await station.sendAll(frames, { window: FRAMES })
    await waitFor(() => frames.every((f) => station.acks.has(f.frameId)), { timeoutMs: 60_000, what: 'an ack for every frame' })
    expect(station.tally().busy).toEqual([])

    // kill while the worker holds deliveries and frames still wait behind them
    await waitFor(() => station.results.size >= 10, { timeoutMs: 120_000, what: 'the worker to get going' })
    // the worker's own count (refreshed every 500 ms) is fresher than rabbitmqctl's
    const held = await waitFor(async () => metricValue(await (await doomed.admin(`/metrics`)).text(), 'linesight_queue_depth', { queue: 'unacked' }), { timeoutMs: 30_000, what: 'deliveries in flight at the worker' })
    const resultsAtKill = station.results.size
    await doomed.kill()
    console.info(`[distributed-worker-crash] SIGKILL with ${held} deliveries held by the worker, ${resultsAtKill} of ${FRAMES} results in`)

    // the broker takes the dead worker's deliveries back; nothing is lost while no worker runs
    // (rabbitmqctl's counts of a quorum queue lag: settledCounts waits for them)
    const resultsBeforeReplacement = station.results.size
    const after = await cluster.broker.settledCounts(LIVE_QUEUE, (c) => c.unacked === 0 && c.ready + resultsBeforeReplacement >= FRAMES)
    console.info(`[distributed-worker-crash] with no worker: ${after.ready} frames queued, ${resultsBeforeReplacement} results in`)
    expect(after.ready).toBeGreaterThan(0)
    // a frame recorded but not yet acknowledged when the worker died is counted on both sides
    expect(after.ready + resultsBeforeReplacement).toBeGreaterThanOrEqual(FRAMES)

    await cluster.worker()
    await station.settled(300_000)

    const tally = station.tally()
    expect(tally.result).toHaveLength(FRAMES)
    for (const [id, list] of station.results) {
      expect(list, id).toHaveLength(1)
      expect(list[0]!.error, id).toBeUndefined()
    }
    // exactly one record per frame in the shared store, read page by page
    const stored = await resultsOfLine(gateway.url, 'L-crash')
    const ids = stored.map((r) => r.frameId)
    expect(ids).toHaveLength(new Set(ids).size)
    expect(ids.sort()).toEqual(frames.map((f) => f.frameId).sort())
    expect(stored.filter((r) => r.error)).toEqual([])
    expect(station.errors).toEqual([])
    await station.close()
  })
})
