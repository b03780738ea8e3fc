import type { Core } from '../core.ts'
import { json, type Route } from './types.ts'

/**
 * What /ready answers, in every role (a worker serves it through server/metrics/worker-endpoint.ts).
 * Not ready while shutting down, without a detector, or while the queue has no broker connection:
 * a load balancer then sends frames to a gateway that can queue them.
 */
export function readiness(core: Core): { ready: boolean } & Record<string, unknown> {
  const status = core.engine?.status()
  const detectorLoaded = core.engine ? (status?.models.length ?? 0) > 0 : core.models.list().some((m) => m.manifest.task === 'detect')
  const queueReady = core.queue.isReady()
  const ready = core.accepting && detectorLoaded && queueReady
  return {
    ready,
    role: core.config.role,
    accepting: core.accepting,
    queue: { kind: core.queue.kind, ready: queueReady },
    store: { kind: core.store.kind },
    models: status?.models ?? core.models.list().map((m) => ({ name: m.manifest.name, version: m.manifest.version, ep: 'browser-only' })),
    modelErrors: core.models.errors,
    providerErrors: status?.providerErrors ?? [],
    workers: status?.workers ?? 0,
    paused: core.processor?.paused ?? false,
    uws: core.uws ?? null,
  }
}

/** Liveness, readiness and Prometheus metrics. */
export function healthRoutes(core: Core): Route[] {
  return [
    { method: 'get', pattern: '/health', access: 'public', handler: () => json(200, { status: 'ok' }) },
    {
      method: 'get',
      pattern: '/ready',
      access: 'public',
      handler: () => {
        const body = readiness(core)
        return json(body.ready ? 200 : 503, body)
      },
    },
    {
      method: 'get',
      pattern: '/metrics',
      access: 'metrics',
      handler: async () => ({
        status: 200,
        headers: { 'content-type': core.metrics.registry.contentType },
        body: await core.metrics.registry.metrics(),
      }),
    },
  ]
}
