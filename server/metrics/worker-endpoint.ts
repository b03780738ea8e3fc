/**
 * `/health`, `/ready` and `/metrics` for a process that runs no gateway (LINESIGHT_ROLE=worker).
 *
 * A worker has no uWS app, yet Kubernetes must probe it and Prometheus must scrape its inference
 * metrics (latency, batch sizes, restarts live only in the process that infers). Three read-only
 * routes do not justify the uWS adapter, so this is plain node:http; the answers match
 * server/api/health.ts so probes and scrape configs are the same for every role.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface WorkerEndpointOptions {
  host: string
  /** PORT: the worker listens where a gateway would, so one probe spec fits both. */
  port: number
  registry: Registry
  /** The same body server/api/health.ts answers on /ready; `ready` picks 200 or 503. */
  ready(): ({ ready: boolean } & Record<string, unknown>) | Promise<{ ready: boolean } & Record<string, unknown>>
  onError(err: unknown, ctx: { path: string }): void
  /**
   * Checks a /metrics request (a `metrics` or admin token, as on a gateway); resolves to an error
   * reply to send instead, or null to serve it.
   */
  authorizeMetrics?(headers: Record<string, string>, address: string): Promise<{ status: number; headers: Record<string, string>; body: string } | null>
}

export interface WorkerEndpoint {
  port: number
  close(): Promise<void>
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

async function answer(opts: WorkerEndpointOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: { code: 'method_not_allowed', message: `${req.method} is not served here` } })
  if (path === '/health') return json(res, 200, { status: 'ok' })
  if (path === '/ready') {
    const body = await opts.ready()
    return json(res, body.ready ? 200 : 503, body)
  }
  if (path === '/metrics') {
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]))
    const refused = await opts.authorizeMetrics?.(headers, req.socket.remoteAddress ?? '')
    if (refused) {
      res.writeHead(refused.status, refused.headers)
      res.end(refused.body)
      return
    }
    const text = await opts.registry.metrics()
    res.writeHead(200, { 'content-type': opts.registry.contentType })
    res.end(text)
    return
  }
  json(res, 404, { error: { code: 'not_found', message: `no route ${path?.slice(0, 200)} (a worker serves /health, /ready, /metrics)` } })
}

export function startWorkerEndpoint(opts: WorkerEndpointOptions): Promise<WorkerEndpoint> {
  const server = createServer((req, res) => {
    answer(opts, req, res).catch((err: unknown) => {
      opts.onError(err, { path: req.url ?? '' })
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: 'internal error' } })
      else res.destroy()
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()))
            server.closeAllConnections()
          }),
      })
    })
  })
}
