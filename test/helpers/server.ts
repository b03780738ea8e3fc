/**
 * Starts a real linesight process for a test: its own data folder, free ports, a known admin
 * token, and only the environment the test gives it (a developer's AMQP_URL or DATABASE_URL
 * never leaks in by accident).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.ts'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * One admin token for every server this test process starts (each is given it as
 * LINESIGHT_ADMIN_TOKEN), so the station and kiosk helpers and the browser helper can sign in to
 * whichever server a test talks to without being told: with AUTH_REQUIRED on by default, every
 * socket and data route needs a token.
 */
export const TEST_ADMIN_TOKEN = `ls_test_${randomBytes(16).toString('hex')}`
const started = new Map<string, string>()

/** The admin token of a server this process started at that URL's origin, if any. */
export function tokenFor(url: string): string | undefined {
  return started.get(new URL(url.replace(/^ws/, 'http')).origin)
}

/** `Authorization: Bearer` for a server this process started (none for any other). */
export function authHeaders(url: string): Record<string, string> {
  const t = tokenFor(url)
  return t ? { authorization: `Bearer ${t}` } : {}
}

export interface RunningServer {
  url: string
  httpsUrl?: string
  port: number
  httpsPort?: number
  adminToken: string
  dataDir: string
  proc: ChildProcess
  /** Every log line so far (pino JSON, parsed when possible). */
  logs: Record<string, unknown>[]
  /** SIGTERM and wait for exit; removes the data folder unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>
  admin(path: string, init?: RequestInit): Promise<Response>
}

/**
 * A small, quiet all-in-one process for the fault tests (a SIGKILL, a full disk): plain HTTP, one
 * single-threaded inference worker, no model watcher, GPU polling, load-history flush or shutdown
 * drain, and a live-frame TTL long enough that frames held across the fault do not expire
 * meanwhile (that is the live-frame rule, not a loss).
 */
export const FAULT_TEST_ENV: Readonly<Record<string, string>> = {
  HTTPS_ENABLED: 'false',
  INFERENCE_WORKERS: '1',
  INFERENCE_THREADS: '1',
  MODELS_WATCH: 'false',
  GPU_METRICS_INTERVAL_MS: '0',
  LOAD_HISTORY_FLUSH_MS: '0',
  SHUTDOWN_DRAIN_MS: '0',
  LIVE_FRAME_TTL_MS: '300000',
}

export interface StartOptions {
  env?: Record<string, string>
  /** LINESIGHT_ROLE; `npm start` runs `all`. */
  role?: 'all' | 'gateway' | 'worker'
  dataDir?: string
  /** Wait for /ready to answer 200 (default), or only for the listening line. */
  waitReady?: boolean
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'linesight-test-')))
  const adminToken = opts.env?.LINESIGHT_ADMIN_TOKEN ?? TEST_ADMIN_TOKEN
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'test',
    LINESIGHT_ROLE: opts.role ?? 'all',
    HOST: '127.0.0.1',
    PORT: '0',
    HTTPS_PORT: '0',
    LINESIGHT_DATA_DIR: dataDir,
    LINESIGHT_MODELS_DIR: join(ROOT, 'models'),
    LINESIGHT_ADMIN_TOKEN: adminToken,
    SERVE_CLIENT: 'false',
    LOG_LEVEL: 'info',
    // as `npm start` and the images run it (docs/soak.md); '' runs it with glibc's default
    MALLOC_ARENA_MAX: '2',
    ...opts.env,
  }
  // '' asks for a first start without an admin token (the server makes one and prints its link)
  if (env.LINESIGHT_ADMIN_TOKEN === '') delete env.LINESIGHT_ADMIN_TOKEN
  if (env.MALLOC_ARENA_MAX === '') delete env.MALLOC_ARENA_MAX
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Record<string, unknown>[] = []
  let exited: number | null | undefined
  proc.on('exit', (code) => {
    exited = code
  })
  const onLines = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        logs.push({ msg: line })
      }
    }
  }
  proc.stdout!.on('data', onLines)
  proc.stderr!.on('data', onLines)

  const listening = await waitFor(
    () => {
      if (exited !== undefined) throw new Error(`linesight exited with ${exited} before listening:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)
      return logs.find((l) => l.msg === 'listening') as { port: number; httpsPort?: number } | undefined
    },
    { timeoutMs: 90_000, what: 'linesight to listen' },
  )
  const url = `http://127.0.0.1:${listening.port}`
  const server: RunningServer = {
    url,
    port: listening.port,
    adminToken,
    dataDir,
    proc,
    logs,
    async stop(o = {}) {
      if (exited === undefined) {
        proc.kill('SIGTERM')
        await waitFor(() => exited !== undefined, { timeoutMs: 30_000, what: 'linesight to exit after SIGTERM' })
      }
      if (!o.keepData && !opts.dataDir) await rm(dataDir, { recursive: true, force: true })
    },
    async kill() {
      if (exited === undefined) {
        proc.kill('SIGKILL')
        await waitFor(() => exited !== undefined, { timeoutMs: 10_000, what: 'linesight to die' })
      }
    },
    admin(path, init = {}) {
      return fetch(url + path, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...(init.headers as Record<string, string> | undefined) } })
    },
  }
  if (listening.httpsPort) {
    server.httpsPort = listening.httpsPort
    server.httpsUrl = `https://127.0.0.1:${listening.httpsPort}`
  }
  if (adminToken) {
    started.set(new URL(url).origin, adminToken)
    if (server.httpsUrl) started.set(new URL(server.httpsUrl).origin, adminToken)
  }
  if (opts.waitReady !== false && (opts.role ?? 'all') !== 'worker') {
    await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, { timeoutMs: 60_000, what: 'linesight /ready' })
  }
  return server
}
