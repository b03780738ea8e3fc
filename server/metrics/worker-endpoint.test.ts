import client from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { startWorkerEndpoint, type WorkerEndpoint } from './worker-endpoint.ts'

describe('worker endpoint', () => {
  let endpoint: WorkerEndpoint | undefined
  afterEach(async () => {
    await endpoint?.close()
    endpoint = undefined
  })

  const start = async (ready: () => { ready: boolean } & Record<string, unknown>, registry = new client.Registry()) => {
    const errors: unknown[] = []
    endpoint = await startWorkerEndpoint({ host: '127.0.0.1', port: 0, registry, ready, onError: (err) => void errors.push(err) })
    return { url: `http://127.0.0.1:${endpoint.port}`, errors }
  }

  it('serves the registry on /metrics in the Prometheus text format', async () => {
    const registry = new client.Registry()
    new client.Counter({ name: 'linesight_probe_total', help: 'a test counter', registers: [registry] }).inc(3)
    const { url } = await start(() => ({ ready: true }), registry)
    const res = await fetch(`${url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    expect(await res.text()).toContain('linesight_probe_total 3')
  })

  it('answers /ready with 503 and the reason while the worker is not ready, 200 once it is', async () => {
    let ready = false
    const { url } = await start(() => ({ ready, queue: { ready } }))
    const before = await fetch(`${url}/ready`)
    expect(before.status).toBe(503)
    expect(await before.json()).toEqual({ ready: false, queue: { ready: false } })
    ready = true
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    expect((await fetch(`${url}/health`)).status).toBe(200)
  })

  it('answers an unknown path with a JSON 404 and a method it does not serve with 405', async () => {
    const { url } = await start(() => ({ ready: true }))
    const res = await fetch(`${url}/api/v1/detect`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405)
  })

  it('reports a failing readiness check as a 500 and to onError, and keeps serving', async () => {
    const { url, errors } = await start(() => {
      throw new Error('engine gone')
    })
    expect((await fetch(`${url}/ready`)).status).toBe(500)
    expect(errors).toHaveLength(1)
    expect((await fetch(`${url}/health`)).status).toBe(200)
  })
})
