/**
 * A distributed linesight for one test: a RabbitMQ vhost of its own (created and deleted with
 * rabbitmqctl, test/helpers/rabbit-vhost.ts), one results store every process shares
 * (a PostgreSQL schema of its own when DATABASE_URL is set, else one SQLite file in a shared data
 * folder), and gateway and worker processes started on both with `startServer`.
 *
 * Tests need AMQP_URL; without it they skip (`describe.skipIf(!amqpUrl)`) and say so.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbit-vhost.ts'
import { startServer, type RunningServer } from './server.ts'
import { authHeaders } from './server.ts'
import { waitFor } from './wait.ts'
import { pgSchema } from './pg.ts'

export { metricValue } from './metrics.ts'


export const amqpUrl = process.env.AMQP_URL
export const databaseUrl = process.env.DATABASE_URL

/** Prints why a suite is skipped, once per file, where vitest shows it. */
export function noteSkip(suite: string): void {
  if (!amqpUrl) console.warn(`[${suite}] AMQP_URL is not set: the distributed tests on a real RabbitMQ are skipped`)
}

export interface QueueCounts {
  ready: number
  unacked: number
}

export interface TestBroker extends TestVhost {
  /** Ready and unacknowledged messages per queue of the vhost, as the broker counts them. */
  queues(): Promise<Record<string, QueueCounts>>
  /**
   * One queue's counts once `settled` holds, or the last counts read when it has not within
   * `timeoutMs`, for the test to assert on. A quorum queue's counts in rabbitmqctl lag its log by
   * a few seconds, so a count read right after a change can still be the old one.
   */
  settledCounts(queue: string, settled: (c: QueueCounts) => boolean, timeoutMs?: number): Promise<QueueCounts>
  /** Client connections open on the vhost; their names say which process and role. */
  connections(): Promise<{ pid: string; name: string }[]>
  /** Closes one connection, as a network cut between one process and the broker would. */
  closeConnection(pid: string): Promise<void>
}

export async function createTestBroker(url: string): Promise<TestBroker> {
  const vhost = await createTestVhost(url)
  const queues = async (): Promise<Record<string, QueueCounts>> => {
    const out = await rabbitmqctl('list_queues', '-p', vhost.name, 'name', 'messages_ready', 'messages_unacknowledged', '--formatter', 'json')
    const rows = JSON.parse(out || '[]') as { name: string; messages_ready: number; messages_unacknowledged: number }[]
    return Object.fromEntries(rows.map((r) => [r.name, { ready: Number(r.messages_ready), unacked: Number(r.messages_unacknowledged) }]))
  }
  return {
    ...vhost,
    queues,
    async settledCounts(queue, settled, timeoutMs = 30_000) {
      let last: QueueCounts = { ready: -1, unacked: -1 }
      await waitFor(
        async () => {
          last = (await queues())[queue] ?? last
          return settled(last)
        },
        { timeoutMs, intervalMs: 500, what: `the counts of ${queue} to settle` },
      ).catch(() => undefined)
      return last
    },
    async connections() {
      // the JSON formatter prints pids in a form close_connection does not take: read the table
      const out = await rabbitmqctl('list_connections', '--no-table-headers', 'pid', 'vhost', 'client_properties')
      return out
        .split('\n')
        .map((line) => line.split('\t'))
        .filter(([pid, vh]) => pid && vh === vhost.name)
        .map(([pid, , props]) => ({ pid: pid!, name: props?.match(/\{"connection_name","([^"]*)"\}/)?.[1] ?? '?' }))
    },
    async closeConnection(pid) {
      await rabbitmqctl('close_connection', pid, 'linesight test: one connection cut')
    },
  }
}

/** The results store every process of the test shares. */
export interface SharedStore {
  kind: 'postgres' | 'sqlite'
  /** Environment for each process (DATABASE_URL with this test's schema). */
  env: Record<string, string>
  /** SQLite: the data folder every process must use (it holds the database file). */
  dataDir?: string
  drop(): Promise<void>
}

export async function createSharedStore(): Promise<SharedStore> {
  if (!databaseUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), 'linesight-dist-'))
    return { kind: 'sqlite', env: {}, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) }
  }
  const schema = await pgSchema(databaseUrl, 'ls_dist')
  return { kind: 'postgres', env: { DATABASE_URL: schema.url }, drop: schema.drop }
}

/**
 * Settings every process of a test cluster runs with: two CPU cores are shared by all of them,
 * so one inference thread each; live frames live long enough to wait out a slow, shared machine
 * (tests about expiry set their own TTL); no HTTPS (gateways sharing a data folder would race to
 * write the certificate); no model watching; no shutdown drain unless a test asks for one.
 */
const CLUSTER_ENV: Record<string, string> = {
  HTTPS_ENABLED: 'false',
  INFERENCE_WORKERS: '1',
  INFERENCE_THREADS: '1',
  LIVE_FRAME_TTL_MS: '120000',
  MODELS_WATCH: 'false',
  GPU_METRICS_INTERVAL_MS: '0',
  LOAD_HISTORY_FLUSH_MS: '0',
  SHUTDOWN_DRAIN_MS: '0',
}

export interface Cluster {
  broker: TestBroker
  store: SharedStore
  processes: RunningServer[]
  gateway(env?: Record<string, string>): Promise<RunningServer>
  /** A worker process, resolved once its /ready answers 200 (model loaded, consuming). */
  worker(env?: Record<string, string>): Promise<RunningServer>
  /** Stops every process still running, drops the vhost and the store. */
  teardown(): Promise<void>
}

/** A vhost and a store for one test; `env` applies to every process started on them. */
export async function createCluster(env: Record<string, string> = {}): Promise<Cluster> {
  if (!amqpUrl) throw new Error('AMQP_URL is not set')
  const broker = await createTestBroker(amqpUrl)
  const store = await createSharedStore().catch(async (err: unknown) => {
    await broker.drop()
    throw err
  })
  const processes: RunningServer[] = []
  const start = async (role: 'gateway' | 'worker', extra: Record<string, string>) => {
    const server = await startServer({
      role,
      env: { ...CLUSTER_ENV, ...store.env, AMQP_URL: broker.url, ...env, ...extra },
      ...(store.dataDir ? { dataDir: store.dataDir } : {}),
    })
    processes.push(server)
    return server
  }
  return {
    broker,
    store,
    processes,
    gateway: (extra = {}) => start('gateway', extra),
    async worker(extra = {}) {
      const w = await start('worker', extra)
      let last = ''
      const ready = async () => {
        const res = await fetch(`${w.url}/ready`)
        last = await res.text()
        return res.status === 200
      }
      // loading the detector on two busy cores can take a while
      await waitFor(ready, { timeoutMs: 120_000, what: 'the worker /ready' }).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; it last answered ${last.slice(0, 500)}`)
      })
      return w
    },
    async teardown() {
      const problems: unknown[] = []
      for (const p of processes) await p.stop().catch((err: unknown) => problems.push(err))
      await broker.allowAccess().catch((err: unknown) => problems.push(err))
      await broker.drop().catch((err: unknown) => problems.push(err))
      await store.drop().catch((err: unknown) => problems.push(err))
      if (problems.length) throw new AggregateError(problems, 'cluster teardown failed')
    },
  }
}

/** Every recorded result of a line, read page by page through `GET /api/v1/results`. */
export async function resultsOfLine(baseUrl: string, line: string): Promise<{ frameId: string; error?: { code: string } }[]> {
  const out: { frameId: string; error?: { code: string } }[] = []
  let cursor: string | undefined
  do {
    const q = new URLSearchParams({ line, limit: '100' })
    if (cursor) q.set('cursor', cursor)
    const res = await fetch(`${baseUrl}/api/v1/results?${q}`, { headers: authHeaders(baseUrl) })
    if (res.status !== 200) throw new Error(`GET /api/v1/results answered ${res.status}: ${await res.text()}`)
    const page = (await res.json()) as { items: { frameId: string; error?: { code: string } }[]; nextCursor?: string }
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

