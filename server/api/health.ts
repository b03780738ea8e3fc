import { statfs } from 'node:fs/promises'
import type { Core } from '../core.ts'
import { json, type Route } from './types.ts'

/**
 * What /ready answers, in every role (a worker serves it through server/metrics/worker-endpoint.ts).
 * Not ready while shutting down, without a detector, while the queue has no broker connection, or
 * while the database does not answer (a restarted PostgreSQL, a full disk): a load balancer then
 * sends frames to a process that can queue and record them.
 */
export async function readiness(core: Core): Promise<{ ready: boolean } & Record<string, unknown>> {
  const status = core.engine?.status()
  const detectorLoaded = core.engine ? (status?.models.length ?? 0) > 0 : core.models.list().some((m) => m.manifest.task === 'detect')
  const queueReady = core.queue.isReady()
  const store = await storeHealth(core)
  const dataDir = await dataDirHealth(core)
  const ready = core.accepting && detectorLoaded && queueReady && store.ready && dataDir.ready
  return {
    ready,
    role: core.config.role,
    accepting: core.accepting,
    queue: { kind: core.queue.kind, ready: queueReady },
    store: { kind: core.store.kind, ...store },
    dataDir,
    models: status?.models ?? core.models.list().map((m) => ({ name: m.manifest.name, version: m.manifest.version, ep: 'browser-only' })),
    modelErrors: core.models.errors,
    providerErrors: status?.providerErrors ?? [],
    workers: status?.workers ?? 0,
    paused: core.processor?.paused ?? false,
    uws: core.uws ?? null,
  }
}

// a database that hangs rather than refuses must not hang the probe with it
const STORE_PING_TIMEOUT_MS = 2000

async function storeHealth(core: Core): Promise<{ ready: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${STORE_PING_TIMEOUT_MS} ms`)), STORE_PING_TIMEOUT_MS)
  })
  try {
    await Promise.race([core.store.ping(), timeout])
    return { ready: true }
  } catch (err) {
    return { ready: false, error: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
  }
}

/** Free space where SQLite, its WAL and the images are written (a full disk fails them). */
export async function dataDirHealth(core: Pick<Core, 'config'>): Promise<{ ready: boolean; freeBytes?: number; minFreeBytes: number; error?: string }> {
  const minFreeBytes = core.config.dataMinFreeMb * 1024 * 1024
  try {
    const fs = await statfs(core.config.dataDir)
    const freeBytes = fs.bavail * fs.bsize
    return { ready: freeBytes >= minFreeBytes, freeBytes, minFreeBytes }
  } catch (err) {
    return { ready: minFreeBytes === 0, minFreeBytes, error: err instanceof Error ? err.message : String(err) }
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
      handler: async () => {
        const body = await readiness(core)
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
