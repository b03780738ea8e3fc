/**
 * What the worker manifests and the scrape job assume of a LINESIGHT_ROLE=worker process, checked
 * on a real one: it listens on PORT, answers the liveness and readiness probes, and exports its
 * inference metrics (which exist only in the process that infers) on /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

let worker: RunningServer | undefined

beforeAll(async () => {
  // the embedded queue: a worker alone, consuming its own (empty) queue
  worker = await startServer({ role: 'worker' })
  await waitFor(async () => (await fetch(`${worker!.url}/ready`)).status === 200, { timeoutMs: 60_000, what: 'the worker to be ready' })
}, 300_000)

afterAll(async () => {
  await worker?.stop()
})

describe('a worker process', () => {
  it('answers the probes the worker Deployment uses', async () => {
    expect((await fetch(`${worker!.url}/health`)).status).toBe(200)
    const ready = await fetch(`${worker!.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, role: 'worker' })
  })

  it('exports its inference metrics for the scrape job', async () => {
    expect((await fetch(`${worker!.url}/metrics`)).status).toBe(401)
    const text = await (await worker!.admin('/metrics')).text()
    expect(text).toMatch(/^linesight_inference_workers [1-9]\d*$/m)
    expect(text).toMatch(/^linesight_model_info\{name="detector",.*\} 1$/m)
    expect(text).toMatch(/^linesight_worker_restarts_total\{reason="crashed"\} 0$/m)
  })

  it('serves nothing else: the API and sockets are the gateway\'s', async () => {
    expect((await fetch(`${worker!.url}/api/v1/lines`)).status).toBe(404)
  })
})
