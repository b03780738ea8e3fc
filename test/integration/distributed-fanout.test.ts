/**
 * Distributed mode with separate processes on a real RabbitMQ: two gateways and two workers share
 * a vhost and a results store. A frame sent through either gateway is inferred by whichever
 * worker takes it; its result reaches the station that sent it and every kiosk of its line, on
 * both gateways, and no kiosk of another line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl, createCluster, metricValue, noteSkip, resultsOfLine, type Cluster } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import type { RunningServer } from '../helpers/server.ts'
import { KioskClient, StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-fanout')

const samples = loadSamples()
const FRAMES_PER_STATION = 24
const frames = (station: string) => Array.from({ length: FRAMES_PER_STATION }, (_, i) => ({ frameId: `${station}-${i}`, bytes: samples[i % samples.length]!.bytes }))

describe.skipIf(!amqpUrl)('several gateways and workers as separate processes', () => {
  let cluster: Cluster
  let gateways: RunningServer[]
  let workers: RunningServer[]
  beforeAll(async () => {
    cluster = await createCluster({ STATION_CREDIT: '16' })
    // started one after the other: two CPU cores, and each process loads its models
    gateways = [await cluster.gateway(), await cluster.gateway()]
    workers = [await cluster.worker(), await cluster.worker()]
  })
  afterAll(async () => {
    await cluster?.teardown()
  })

  it('brings each result to its own station and to the kiosks of its line on every gateway', { timeout: 180_000 }, async () => {
    const [gw1, gw2] = gateways as [RunningServer, RunningServer]
    const kiosks = [await KioskClient.connect(gw1.url, ['L-fan']), await KioskClient.connect(gw2.url, ['L-fan'])]
    const otherLineKiosk = await KioskClient.connect(gw1.url, ['L-other'])
    const a = await StationClient.connect(gw1.url, { line: 'L-fan', station: 'S-a' })
    const b = await StationClient.connect(gw2.url, { line: 'L-fan', station: 'S-b' })
    const other = await StationClient.connect(gw2.url, { line: 'L-other', station: 'S-c' })

    await Promise.all([a.sendAll(frames('S-a'), { window: 8 }), b.sendAll(frames('S-b'), { window: 8 }), other.sendAll(frames('S-c'), { window: 8 })])
    await Promise.all([a.settled(), b.settled(), other.settled()])

    for (const station of [a, b, other]) {
      const tally = station.tally()
      expect(tally.result, `${station.station}: ${JSON.stringify({ busy: tally.busy, rejected: tally.rejected })}`).toHaveLength(FRAMES_PER_STATION)
      // exactly one result per frame, for this station's frames only
      expect([...station.results.keys()].sort()).toEqual([...station.sent].sort())
      for (const [id, list] of station.results) {
        expect(list, id).toHaveLength(1)
        expect(list[0]).toMatchObject({ frameId: id, line: station.line, station: station.station, inferredAt: 'server' })
        expect(list[0]!.error).toBeUndefined()
      }
      expect(station.errors).toEqual([])
      expect(station.protocolErrors).toEqual([])
    }

    const fanIds = new Set([...a.sent, ...b.sent])
    for (const kiosk of kiosks) {
      await waitFor(() => [...fanIds].every((id) => kiosk.frameIds().has(id)), { timeoutMs: 30_000, what: 'every L-fan result at the kiosk' })
      expect(kiosk.results.every((r) => r.line === 'L-fan')).toBe(true)
      expect(kiosk.frameIds()).toEqual(fanIds)
      expect(kiosk.protocolErrors).toEqual([])
    }
    await waitFor(() => other.sent.every((id) => otherLineKiosk.frameIds().has(id)), { timeoutMs: 30_000, what: 'every L-other result at its kiosk' })
    expect(otherLineKiosk.frameIds()).toEqual(new Set(other.sent))

    // both workers took part, and the shared store holds each frame once, readable from either gateway
    for (const w of workers) {
      const text = await (await w.admin(`/metrics`)).text()
      expect(metricValue(text, 'linesight_results_recorded_total'), `worker ${w.port}`).toBeGreaterThan(0)
    }
    const stored = await resultsOfLine(gw2.url, 'L-fan')
    expect(stored.map((r) => r.frameId).sort()).toEqual([...fanIds].sort())

    for (const c of [...kiosks, otherLineKiosk, a, b, other]) await c.close()
  })
})
