/**
 * The local supervisor in a real linesight process under a real load: concurrent
 * `POST /api/v1/detect` calls with the committed sample images. The supervisor (deciding every
 * 500 ms here) must add a worker thread while the queue is long, take it away once the load
 * eases (while frames still flow, so the leaving worker drains under traffic), and through all
 * of it every frame sent must end with exactly one recorded result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScalingDoc, ScalingSettings } from '../../shared/domain/scaling.ts'
import { loadSamples, type Sample } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const LINE = `SCALE-${process.pid}`

interface Sent {
  status: number
  frameId?: string
  error?: string
}

describe('local supervisor under load', () => {
  let server: RunningServer
  let samples: Sample[]
  const sent: Sent[] = []

  beforeAll(async () => {
    samples = loadSamples()
    server = await startServer({
      env: {
        SCALING_ENABLED: 'true',
        SCALING_ACTUATOR: 'local',
        SCALING_PERIOD_MS: '500',
        INFERENCE_WORKERS: '1',
        INFERENCE_THREADS: '1',
        MODELS_WATCH: 'false',
        LOAD_HISTORY_FLUSH_MS: '1000',
        HTTPS_ENABLED: 'false',
        // on a busy 2-core test machine a queued frame may wait longer than the default 5 s;
        // expiring it would answer 503, which is the TTL at work, not the supervisor
        LIVE_FRAME_TTL_MS: '120000',
      },
    })
  })

  afterAll(async () => {
    await server?.stop()
  })

  const readyWorkers = async () => ((await (await fetch(`${server.url}/ready`)).json()) as { workers: number }).workers
  const workersMetric = async () => Number(/^linesight_inference_workers (\d+)/m.exec(await (await server.admin(`/metrics`)).text())?.[1])

  /** `concurrency` loops sending frames until `stop()` is called; resolves when they are done. */
  function load(concurrency: number): { stop(): Promise<void> } {
    let running = true
    let n = 0
    const loops = Array.from({ length: concurrency }, async () => {
      while (running) {
        const s = samples[n++ % samples.length]!
        const res = await server.admin(`/api/v1/detect?line=${LINE}&station=gen`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: s.bytes as BodyInit })
        const body = (await res.json()) as { frameId?: string; error?: { code: string } }
        sent.push({ status: res.status, ...(body.frameId ? { frameId: body.frameId } : {}), ...(body.error ? { error: body.error.code } : {}) })
      }
    })
    return {
      async stop() {
        running = false
        await Promise.all(loops)
      },
    }
  }

  it('adds a worker as the queue grows and removes it after the load eases, losing no frame', async () => {
    const current = ((await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc).settings
    const settings: ScalingSettings = {
      ...current,
      minWorkers: 1,
      maxWorkers: 2,
      // the queue decides here: capacity is set so high that throughput never asks for more
      target: { queuePerWorker: 2, p95Ms: 600_000, utilization: 1 },
      workerCapacityFps: 10_000,
      scaleDown: { stabilizationWindowSeconds: 3, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 1 }] },
      predictive: { ...current.predictive, enabled: false },
    }
    const put = await server.admin('/api/v1/admin/scaling', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) })
    expect(put.status).toBe(200)
    expect(await readyWorkers()).toBe(1)

    const heavy = load(12)
    await waitFor(async () => (await readyWorkers()) === 2, { timeoutMs: 90_000, intervalMs: 200, what: 'a second worker under load' })
    expect(await workersMetric()).toBe(2)
    await heavy.stop()

    // a trickle keeps frames in flight while the supervisor takes the worker away
    const trickle = load(1)
    await waitFor(async () => (await readyWorkers()) === 1, { timeoutMs: 60_000, intervalMs: 200, what: 'the extra worker to be removed' })
    const atOne = sent.length
    await waitFor(() => sent.length >= atOne + 5, { timeoutMs: 30_000, what: 'frames served after the scale-down' })
    await trickle.stop()
    expect(await workersMetric()).toBe(1)

    const doc = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(doc.state).toMatchObject({ enabled: true, actuator: 'local', current: 1, error: null })

    // every frame answered, and recorded exactly once
    expect(sent.filter((s) => s.status !== 200)).toEqual([])
    const ids = sent.map((s) => s.frameId!)
    expect(new Set(ids).size).toBe(ids.length)
    const recorded: string[] = []
    let cursor: string | undefined
    do {
      const q = new URLSearchParams({ line: LINE, limit: '1000', ...(cursor ? { cursor } : {}) })
      const page = (await (await server.admin(`/api/v1/results?${q}`)).json()) as { items: { frameId: string; error?: unknown }[]; nextCursor?: string }
      recorded.push(...page.items.map((i) => i.frameId))
      expect(page.items.filter((i) => i.error)).toEqual([])
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    expect(recorded.length).toBe(ids.length)
    expect(new Set(recorded)).toEqual(new Set(ids))

    // and the supervisor said what it did, in the log
    const changes = server.logs.filter((l) => l.msg === 'scaling: workers changed').map((l) => [l.from, l.to])
    expect(changes).toContainEqual([1, 2])
    expect(changes).toContainEqual([2, 1])
  })
})
