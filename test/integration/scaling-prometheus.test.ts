/**
 * `scaling:backtest --prometheus`: a real Prometheus, its TSDB made by `promtool tsdb
 * create-blocks-from openmetrics` from 15 days of a seasonal load split over two series (so the
 * query's sum and the 10,000-step windows are both exercised), queried over HTTP.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, monitoringBinaries } from '../../deploy/monitoring/testing/processes.ts'
import { traceFromPrometheus } from '../../server/scaling/prometheus-source.ts'
import { seasonalLoad } from '../../server/scaling/seasonal-load.ts'
import { ROOT } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const run = promisify(execFile)
const bins = await monitoringBinaries()
const missing = !bins.prometheus || !bins.promtool
if (missing) console.warn('scaling-prometheus: prometheus or promtool is not installed (Debian: apt-get install prometheus); skipping')

const DAYS = 15
const MIN = 60_000
// whole minutes, ending a minute ago: the CLI asks for the days up to now
const end = Math.floor(Date.now() / MIN) * MIN - MIN
const start = end - DAYS * 1440 * MIN
const load = seasonalLoad({ seed: 3, days: DAYS, start })

let dir = ''
let proc: ChildProcess | undefined
let url = ''

beforeAll(async () => {
  if (missing) return
  dir = await mkdtemp(join(tmpdir(), 'linesight-prom-trace-'))
  const lines = ['# HELP linesight_test_fps frames per second', '# TYPE linesight_test_fps gauge']
  for (let i = 0; i < load.length; i++) {
    const fps = load.total[i]! / 60
    const t = (start + i * MIN) / 1000
    // two lines carrying 40 % and 60 %: the query sums them back
    lines.push(`linesight_test_fps{line="L1"} ${(fps * 0.4).toFixed(6)} ${t}`, `linesight_test_fps{line="L2"} ${(fps * 0.6).toFixed(6)} ${t}`)
  }
  await writeFile(join(dir, 'samples.om'), `${lines.join('\n')}\n# EOF\n`)
  await run(bins.promtool!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'samples.om'), join(dir, 'data')], { maxBuffer: 1 << 24 })
  await writeFile(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\nscrape_configs: []\n')
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  let out = ''
  proc = spawn(bins.prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--storage.tsdb.retention.time=3650d', `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok, { timeoutMs: 60_000, what: `prometheus ready (${out.slice(-500)})` })
}, 180_000)

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc!.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe.skipIf(missing)('backtest from a Prometheus range query', () => {
  it('sums the series of a range query, window by window, into the load that was stored', async () => {
    const trace = await traceFromPrometheus({ url, query: 'sum by (line) (linesight_test_fps)', from: start, to: end - MIN })
    expect(trace.series.start).toBe(start)
    expect(trace.series.length).toBe(load.length)
    expect(trace.gaps).toBe(0)
    for (const i of [0, 1, 4321, 10_000, 10_001, 15_000, load.length - 1]) expect(trace.series.total[i]).toBeCloseTo(load.total[i]!, 2)
  })

  it('runs the backtest CLI on it and prints the usual keys', async () => {
    const { stdout } = await run('npx', ['tsx', 'server/scaling/backtest.ts', '--json', '--prometheus', url, '--query', 'sum(linesight_test_fps)', '--days', String(DAYS)], { cwd: ROOT, maxBuffer: 1 << 22 })
    const out = JSON.parse(stdout) as { source: string; days: number; mape: number; backlogMinutes: { predictive: number; reactive: number }; workerMinutes: { predictive: number; reactive: number } }
    expect(out.source).toBe('prometheus')
    expect(out.days).toBe(DAYS)
    expect(out.mape).toBeLessThan(0.15)
    expect(out.backlogMinutes.predictive).toBeLessThanOrEqual(out.backlogMinutes.reactive)
    expect(out.workerMinutes.predictive).toBeLessThanOrEqual(out.workerMinutes.reactive * 1.05)
  }, 180_000)

  it('reports a query Prometheus refuses as an error with its reason', async () => {
    await expect(traceFromPrometheus({ url, query: 'sum(', from: start, to: end })).rejects.toThrow(/Prometheus answered 400: .*parse error/)
  })
})
