/**
 * One process with LINESIGHT_ROLE=all (what `npm start` runs), once on the embedded queue and
 * once on RabbitMQ (AMQP_URL set): the same station -> kiosk path and the same dead-letter
 * administration (`/api/v1/admin/dead-letters`: list, requeue, discard, audited), checked by the
 * same assertions, so both queues are seen to behave alike from the outside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl, createTestBroker, metricValue, resultsOfLine, type TestBroker } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { KioskClient, StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

if (!amqpUrl) console.warn('[distributed-all-role] AMQP_URL is not set: only the embedded queue runs; the RabbitMQ half is skipped')

const samples = loadSamples()
const poisonBytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3000, 0x33)])

interface DeadLetterList {
  queue: string
  kept: number
  deadLetters: { id: string; reason: string; error?: string; line: string; station: string; deadAt: number; ageMs: number; bytes: number }[]
}

for (const kind of ['embedded', 'rabbitmq'] as const) {
  describe.skipIf(kind === 'rabbitmq' && !amqpUrl)(`LINESIGHT_ROLE=all on the ${kind} queue`, () => {
    let broker: TestBroker | undefined
    let server: RunningServer
    beforeAll(async () => {
      if (kind === 'rabbitmq') broker = await createTestBroker(amqpUrl!)
      server = await startServer({
        role: 'all',
        env: { HTTPS_ENABLED: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1', MODELS_WATCH: 'false', QUEUE_DELIVERY_LIMIT: '2', LIVE_FRAME_TTL_MS: '120000', ...(broker ? { AMQP_URL: broker.url } : {}) },
      })
    })
    afterAll(async () => {
      await server?.stop()
      await broker?.drop()
    })

    it('brings every result from the station to itself and to the kiosk of its line', { timeout: 180_000 }, async () => {
      const ready = (await (await fetch(`${server.url}/ready`)).json()) as { queue: { kind: string } }
      expect(ready.queue.kind).toBe(kind)
      const kiosk = await KioskClient.connect(server.url, ['L-all'])
      const station = await StationClient.connect(server.url, { line: 'L-all', station: 'S-1' })
      const frames = Array.from({ length: 14 }, (_, i) => ({ frameId: `all-${i}`, bytes: samples[i % samples.length]!.bytes }))
      await station.sendAll(frames, { window: 4 })
      await station.settled(120_000)
      expect(station.tally().result).toHaveLength(frames.length)
      for (const s of samples) {
        // the same image always gets the same verdict, whichever queue carried it
        const verdicts = new Set(frames.filter((f) => f.bytes === s.bytes).map((f) => station.results.get(f.frameId)![0]!.verdict))
        expect(verdicts.size, s.file).toBe(1)
        expect([...verdicts][0], s.file).toBe(s.boxes.some((b) => b.class !== 'part') ? 'fail' : 'pass')
      }
      await waitFor(() => frames.every((f) => kiosk.frameIds().has(f.frameId)), { timeoutMs: 30_000, what: 'every result at the kiosk' })
      expect(kiosk.frameIds()).toEqual(new Set(station.sent))
      expect((await resultsOfLine(server.url, 'L-all')).map((r) => r.frameId).sort()).toEqual([...station.sent].sort())
      expect([...station.errors, ...kiosk.errors, ...station.protocolErrors, ...kiosk.protocolErrors]).toEqual([])
      await kiosk.close()
      await station.close()
    })

    it('lists, requeues and discards dead letters through the admin API, and audits both', { timeout: 180_000 }, async () => {
      const station = await StationClient.connect(server.url, { line: 'L-dead', station: 'S-9' })
      station.send({ frameId: 'dl-poison', bytes: poisonBytes })
      station.send({ frameId: 'dl-fine', bytes: samples[0]!.bytes })
      await station.settled(120_000)
      expect(station.results.get('dl-poison')![0]!.error?.code).toBe('undecodable')
      expect(station.results.get('dl-fine')![0]!.error).toBeUndefined()

      const list = async () => {
        const res = await server.admin('/api/v1/admin/dead-letters')
        expect(res.status).toBe(200)
        return (await res.json()) as DeadLetterList
      }
      const first = await waitFor(async () => (await list()).deadLetters.find((d) => d.id === 'dl-poison'), { what: 'the dead letter listed' })
      expect(first).toMatchObject({ reason: 'delivery-limit', line: 'L-dead', station: 'S-9', bytes: poisonBytes.length })
      expect(first.error).toMatch(/^undecodable: /)
      expect((await list()).queue).toBe(kind)
      expect((await fetch(`${server.url}/api/v1/admin/dead-letters`)).status).toBe(401)

      // requeued, it is a new frame with fresh attempts: it fails twice more and dies again
      const requeue = await server.admin('/api/v1/admin/dead-letters/dl-poison/requeue', { method: 'POST' })
      expect(requeue.status).toBe(200)
      expect(await requeue.json()).toEqual({ id: 'dl-poison', requeued: true })
      const again = await waitFor(async () => (await list()).deadLetters.find((d) => d.id === 'dl-poison' && d.deadAt > first.deadAt), { timeoutMs: 60_000, what: 'the requeued frame dead again' })
      expect(again.reason).toBe('delivery-limit')
      const attempts = server.logs.filter((l) => l.frameId === 'dl-poison' && l.msg === 'frame failed; nacked for redelivery').map((l) => l.attempt)
      expect(attempts).toEqual([1, 2, 1, 2])
      const metrics = await (await server.admin(`/metrics`)).text()
      expect(metricValue(metrics, 'linesight_dead_letters_total', { reason: 'delivery-limit' })).toBe(2)

      const discard = await server.admin('/api/v1/admin/dead-letters/dl-poison', { method: 'DELETE' })
      expect(discard.status).toBe(200)
      expect((await list()).deadLetters.map((d) => d.id)).not.toContain('dl-poison')
      const missing = await server.admin('/api/v1/admin/dead-letters/dl-poison', { method: 'DELETE' })
      expect(missing.status).toBe(404)
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found')
      expect((await server.admin('/api/v1/admin/dead-letters/no-such-frame/requeue', { method: 'POST' })).status).toBe(404)
      expect((await server.admin('/api/v1/admin/dead-letters/bad%24id/requeue', { method: 'POST' })).status).toBe(400)
      expect((await server.admin('/api/v1/admin/dead-letters?limit=0')).status).toBe(400)

      const audit = (await (await server.admin('/api/v1/admin/audit')).json()) as { items: { action: string; target: string; before?: { reason?: string } }[] }
      const ours = audit.items.filter((e) => e.target === 'dead-letter:dl-poison')
      expect(ours.map((e) => e.action).sort()).toEqual(['dead-letter.discard', 'dead-letter.requeue'])
      for (const e of ours) expect(e.before?.reason).toBe('delivery-limit')
      await station.close()
    })
  })
}
