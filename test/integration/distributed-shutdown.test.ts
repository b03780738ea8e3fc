/**
 * Graceful shutdown (SIGTERM) of separate gateway and worker processes on a real RabbitMQ.
 *
 * A worker stops taking frames, finishes and acknowledges the ones it holds, then exits: the
 * frames it held when SIGTERM came have their results by the time it is gone (a worker that just
 * dropped them would leave them to the next one), nothing is lost, and the frames still queued
 * get their results from the next worker.
 *
 * The delivery limit is 2, not 1: a quorum queue may deliver a frame or two after cancel-ok,
 * which rabbitmq-client drops, so the broker takes them back when the channel closes and counts
 * an attempt (a queue-layer issue, reported with this test). One spare attempt absorbs that.
 *
 * A gateway answers /ready with 503 first and keeps serving for SHUTDOWN_DRAIN_MS (results of
 * frames in flight still reach their station), then closes its sockets and exits.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { amqpUrl, createCluster, metricValue, noteSkip, resultsOfLine, type Cluster } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import type { RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-shutdown')

const LIVE_QUEUE = 'linesight.frames.live'
const DRAIN_MS = 10_000
const FRAMES = 120
const samples = loadSamples()
const exitCode = (p: RunningServer) => new Promise<number | null>((resolve) => (p.proc.exitCode !== null ? resolve(p.proc.exitCode) : p.proc.once('exit', (code) => resolve(code))))

describe.skipIf(!amqpUrl)('graceful shutdown of gateway and worker processes', () => {
  // one cluster per test: frames one test leaves queued must not sit in front of the next one's
  let cluster: Cluster | undefined
  const start = async () => (cluster = await createCluster({ QUEUE_DELIVERY_LIMIT: '2', STATION_CREDIT: String(FRAMES) }))
  afterEach(async () => {
    await cluster?.teardown()
    cluster = undefined
  })

  it('lets a worker finish and acknowledge the frames it holds before it exits', { timeout: 300_000 }, async () => {
    const cluster = await start()
    const gateway = await cluster.gateway()
    const leaving = await cluster.worker()
    const station = await StationClient.connect(gateway.url, { line: 'L-term', station: 'S-1' })
    const frames = Array.from({ length: FRAMES }, (_, i) => ({ frameId: `term-${i}`, bytes: samples[i % samples.length]!.bytes }))
    await station.sendAll(frames, { window: frames.length })
    await waitFor(() => frames.every((f) => station.acks.has(f.frameId)), { timeoutMs: 60_000, what: 'an ack for every frame' })
    expect(station.tally().busy).toEqual([])
    await waitFor(() => station.results.size >= 5, { timeoutMs: 120_000, what: 'the worker to get going' })
    // the worker's own count (refreshed every 500 ms) is fresher than rabbitmqctl's
    const held = await waitFor(async () => metricValue(await (await leaving.admin(`/metrics`)).text(), 'linesight_queue_depth', { queue: 'unacked' }), { timeoutMs: 30_000, what: 'deliveries in flight at the worker' })
    const resultsAtTerm = station.results.size
    leaving.proc.kill('SIGTERM')
    expect(await exitCode(leaving)).toBe(0)
    expect(leaving.logs.some((l) => l.msg === 'stopped')).toBe(true)

    // no worker runs now: every result the station has came from the one that left
    // (rabbitmqctl's counts of a quorum queue lag: settledCounts waits for them)
    const resultsAfterExit = station.results.size
    const after = await cluster.broker.settledCounts(LIVE_QUEUE, (c) => c.unacked === 0 && c.ready + resultsAfterExit === frames.length)
    console.info(`[distributed-shutdown] SIGTERM with ${held} deliveries held by the worker and ${resultsAtTerm} of ${frames.length} results in; ${resultsAfterExit} after it exited, ${after.ready} left queued`)
    // it finished what it held, and left nothing half done or lost behind it
    expect(resultsAfterExit).toBeGreaterThanOrEqual(resultsAtTerm + held)
    expect(after.unacked).toBe(0)
    expect(after.ready).toBeGreaterThan(0)
    expect(after.ready + resultsAfterExit).toBe(frames.length)

    await cluster.worker()
    await station.settled(240_000)
    expect(station.tally().result).toHaveLength(frames.length)
    for (const [id, list] of station.results) {
      expect(list, id).toHaveLength(1)
      expect(list[0]!.error, id).toBeUndefined()
    }
    const stored = await resultsOfLine(gateway.url, 'L-term')
    expect(stored.map((r) => r.frameId).sort()).toEqual(frames.map((f) => f.frameId).sort())
    expect(stored.filter((r) => r.error)).toEqual([])
    expect((await cluster.broker.queues())['linesight.dead-letters']).toEqual({ ready: 0, unacked: 0 })
    await station.close()
  })

  it('turns /ready to 503 first, keeps serving while it drains, then closes', { timeout: 300_000 }, async () => {
    const cluster = await start()
    const leaving = await cluster.gateway({ SHUTDOWN_DRAIN_MS: String(DRAIN_MS) })
    await cluster.worker()
    const station = await StationClient.connect(leaving.url, { line: 'L-drain', station: 'S-1' })
    const frames = Array.from({ length: 2 }, (_, i) => ({ frameId: `drain-${i}`, bytes: samples[i]!.bytes }))
    await station.sendAll(frames, { window: frames.length })
    await waitFor(() => frames.every((f) => station.ackStatus(f.frameId) === 'accepted'), { what: 'the frames accepted' })

    const termAt = Date.now()
    leaving.proc.kill('SIGTERM')
    const draining = await waitFor(
      async () => {
        const [ready, health] = await Promise.all([fetch(`${leaving.url}/ready`), fetch(`${leaving.url}/health`)])
        return ready.status === 503 && health.status === 200 ? ((await ready.json()) as { accepting: boolean }) : undefined
      },
      { timeoutMs: DRAIN_MS, what: '/ready 503 while /health still answers' },
    )
    expect(draining.accepting).toBe(false)
    // results of frames in flight still reach the station while the gateway drains
    await station.settled(DRAIN_MS)
    expect(station.tally().result).toHaveLength(frames.length)

    expect(await exitCode(leaving)).toBe(0)
    const closedAfterMs = Date.now() - termAt
    await waitFor(() => station.closed, { timeoutMs: 5000, what: 'the station socket closed by the gateway' })
    await expect(fetch(`${leaving.url}/health`)).rejects.toThrow()
    console.info(`[distributed-shutdown] gateway exited ${closedAfterMs} ms after SIGTERM (SHUTDOWN_DRAIN_MS=${DRAIN_MS})`)
  })
})
