/**
 * Real Prometheus and Alertmanager for the monitoring tests: the Debian binaries, a temporary
 * folder each, a free port, and a stop() that removes everything. Tests skip (with a message)
 * when a binary is missing, through `monitoringBinaries()`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findExecutable } from '../../../server/metrics/gpu.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

export interface MonitoringBinaries {
  prometheus?: string
  promtool?: string
  alertmanager?: string
  amtool?: string
}

/** Debian installs Alertmanager as prometheus-alertmanager; upstream tarballs as alertmanager. */
export async function monitoringBinaries(): Promise<MonitoringBinaries> {
  return {
    prometheus: await findExecutable('prometheus'),
    promtool: await findExecutable('promtool'),
    alertmanager: (await findExecutable('prometheus-alertmanager')) ?? (await findExecutable('alertmanager')),
    amtool: await findExecutable('amtool'),
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface Daemon {
  url: string
  dir: string
  /** Everything it printed so far. */
  output(): string
  stop(): Promise<void>
}

async function startDaemon(name: string, binary: string, args: (dir: string, port: number) => string[], files: Record<string, string>): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), `linesight-${name}-`))
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text)
  // the port is free when asked; another process could take it before the daemon binds, so retry
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const proc: ChildProcess = spawn(binary, args(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let exited: number | null | undefined
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')))
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')))
    proc.on('exit', (code) => (exited = code))
    const url = `http://127.0.0.1:${port}`
    const stop = async () => {
      if (exited === undefined) {
        proc.kill('SIGTERM')
        await waitFor(() => exited !== undefined, { timeoutMs: 15_000, what: `${name} to exit` })
      }
    }
    try {
      await waitFor(
        async () => {
          if (exited !== undefined) throw new Error(`${name} exited with ${exited}:\n${out.slice(-3000)}`)
          return (await fetch(`${url}/-/ready`)).ok
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${name} to be ready` },
      )
      return {
        url,
        dir,
        output: () => out,
        async stop() {
          await stop()
          await rm(dir, { recursive: true, force: true })
        },
      }
    } catch (err) {
      await stop()
      if (attempt < 3 && /address already in use/.test(out)) continue
      await rm(dir, { recursive: true, force: true })
      throw err
    }
  }
}

/** `config` is a rendered prometheus.yml; `files` are written beside it (e.g. the rule file). */
/**
 * A `metrics` token of a test's linesight, for the scrape job's credentials_file
 * (`linesight-metrics-token` beside prometheus.yml), as an operator makes one.
 */
export async function metricsToken(server: { admin(path: string, init?: RequestInit): Promise<Response> }): Promise<string> {
  const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'metrics', label: 'prometheus' }) })
  if (res.status !== 201) throw new Error(`creating a metrics token: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { secret: string }).secret
}

export function startPrometheus(binary: string, config: string, files: Record<string, string> = {}): Promise<Daemon> {
  return startDaemon(
    'prometheus',
    binary,
    (dir, port) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { 'prometheus.yml': config, ...files },
  )
}

export function startAlertmanager(binary: string, config: string): Promise<Daemon> {
  return startDaemon(
    'alertmanager',
    binary,
    // an empty cluster address turns off the gossip port (9094), which parallel runs would share
    (dir, port) => [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { 'alertmanager.yml': config },
  )
}

export interface PromVector {
  metric: Record<string, string>
  value: [number, string]
}

export type QueryResult = { ok: true; result: PromVector[] } | { ok: false; errorType: string; error: string }

/** An instant query through the HTTP API; a PromQL error comes back as a value, not a throw. */
export async function promQuery(prometheusUrl: string, query: string): Promise<QueryResult> {
  const res = await fetch(`${prometheusUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query }) })
  const body = (await res.json()) as { status: string; data?: { resultType: string; result: PromVector[] }; errorType?: string; error?: string }
  if (body.status !== 'success') return { ok: false, errorType: body.errorType ?? String(res.status), error: body.error ?? 'unknown error' }
  if (body.data?.resultType !== 'vector') return { ok: true, result: [] }
  return { ok: true, result: body.data.result }
}
