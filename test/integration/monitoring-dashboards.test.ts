/**
 * The Grafana dashboards against a real Prometheus scraping a real linesight: every panel's
 * PromQL (with $line, $model and Grafana's intervals replaced by concrete values) must run, and
 * must name only series linesight exports (server/metrics registry, with a histogram's
 * _bucket/_sum/_count) or the shipped rule file records. The committed JSON must be what
 * deploy/monitoring/grafana/print-dashboards.ts generates.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportedSeriesNames } from '../../server/metrics/reference.ts'
import { DASHBOARDS, fileName } from '../../deploy/monitoring/grafana/dashboards.ts'
import { dashboardJson, dashboardQueries, dashboardText } from '../../deploy/monitoring/grafana/model.ts'
import { metricsToken, monitoringBinaries, promQuery, startPrometheus, type Daemon } from '../../deploy/monitoring/testing/processes.ts'
import { renderPrometheusConfig, renderRules } from '../../deploy/monitoring/testing/render.ts'
import { openStation, type TestStation } from '../../deploy/monitoring/testing/station.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const GRAFANA = join(ROOT, 'deploy/monitoring/grafana')
const MON = join(ROOT, 'deploy/monitoring')
const files = readdirSync(join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json')).sort()
const committed = files.map((f) => ({ file: f, json: JSON.parse(readFileSync(join(GRAFANA, 'dashboards', f), 'utf8')) as Record<string, unknown> }))
const queries = committed.flatMap((d) => dashboardQueries(d.json))
const recorded = new Set(
  (parse(readFileSync(join(MON, 'alerts.yml'), 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
)

/** What Grafana would substitute, with values this test's traffic creates. */
const VALUES: Record<string, string> = { line: 'L1', model: 'detector', __rate_interval: '1m', __interval: '15s', __range: '1h' }
const expand = (expr: string) => expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => VALUES[name] ?? m)

describe('dashboard files', () => {
  it('are exactly what the generator makes (regenerate: npx tsx deploy/monitoring/grafana/print-dashboards.ts)', () => {
    expect(files).toEqual(DASHBOARDS.map(fileName).sort())
    for (const d of DASHBOARDS) expect(readFileSync(join(GRAFANA, 'dashboards', fileName(d)), 'utf8'), fileName(d)).toBe(dashboardText(dashboardJson(d)))
  })

  it('cover overview, line, inference, queue and stations, with $line templated on the line dashboard', () => {
    const uids = committed.map((d) => d.json.uid)
    expect(uids).toEqual(expect.arrayContaining(['linesight-overview', 'linesight-line', 'linesight-inference', 'linesight-queue', 'linesight-stations']))
    const line = committed.find((d) => d.json.uid === 'linesight-line')!
    expect(queries.filter((q) => q.where.startsWith(String(line.json.title)) && !q.variable).every((q) => q.expr.includes('$line'))).toBe(true)
  })

  it('name only series linesight exports or the shipped rules record', () => {
    const exported = exportedSeriesNames()
    const named = queries.flatMap((q) => [...q.expr.matchAll(/\blinesight[_:][A-Za-z0-9_:]+/g)].map((m) => ({ where: q.where, name: m[0] })))
    const unknown = named.filter(({ name }) => (name.includes(':') ? !recorded.has(name) : !exported.has(name)))
    expect(unknown).toEqual([])
  })

  it('are provisioned from the folder compose mounts them into', () => {
    const provider = parse(readFileSync(join(GRAFANA, 'provisioning/dashboards/linesight.yaml'), 'utf8')) as { providers: { options: { path: string } }[] }
    const compose = readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8')
    expect(compose).toContain(`../monitoring/grafana/dashboards:${provider.providers[0]!.options.path}`)
  })
})

const bins = await monitoringBinaries()
if (!bins.prometheus) console.warn('monitoring-dashboards: prometheus is not installed (Debian: apt-get install prometheus); skipping the queries against a real Prometheus')

describe.skipIf(!bins.prometheus)('dashboard queries against a real Prometheus', () => {
  let server: RunningServer | undefined
  let prometheus: Daemon | undefined
  let station: TestStation | undefined

  beforeAll(async () => {
    server = await startServer()
    const config = renderPrometheusConfig(readFileSync(join(MON, 'prometheus.yml'), 'utf8'), { target: new URL(server.url).host, ruleFile: 'alerts.yml', interval: '1s' })
    prometheus = await startPrometheus(bins.prometheus!, config, { 'linesight-metrics-token': await metricsToken(server!), 'alerts.yml': renderRules(readFileSync(join(MON, 'alerts.yml'), 'utf8'), '3s') })

    // traffic that fills as many series as a short test can: frames over the station socket and
    // HTTP, the station's own reports, an audit frame
    const samples = loadSamples()
    station = await openStation(server.url, 'L1', 'S1')
    station.report({ type: 'backend', ep: 'wasm', candidates: [{ ep: 'wasm', ok: true, detectorMs: 40 }] })
    const ids = samples.map((s, i) => station!.sendFrame(s, { audit: i === 0 }))
    station.report({ type: 'skips', counts: { unchanged: 12, empty: 3 } })
    station.report({ type: 'shadow', frameId: ids[0]!, ep: 'wasm', matched: 2, unmatched: 1 })
    const detect = await server.admin(`/api/v1/detect?line=L1&station=http`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: samples[0]!.bytes as BodyInit })
    expect(detect.status).toBe(200)
    await waitFor(() => ids.every((id) => station!.results.has(id)), { timeoutMs: 60_000, what: 'results for every frame' })
    // every counter scraped at least twice with its final value, and the recording rule evaluated
    await waitFor(
      async () => {
        const results = await promQuery(prometheus!.url, 'min(count_over_time(linesight_results_total[1m])) >= 2 and on () sum(linesight_results_total) >= ' + String(ids.length + 1))
        const recording = await promQuery(prometheus!.url, 'linesight:line_activity:rate15m{line="L1"}')
        return results.ok && results.result.length > 0 && recording.ok && recording.result.length > 0
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'Prometheus to hold the traffic' },
    )
  }, 300_000)

  afterAll(async () => {
    station?.close()
    await server?.stop()
    await prometheus?.stop()
  })

  it.each(queries.filter((q) => !q.variable).map((q) => [q.where, q.expr] as const))('%s runs', async (_where, expr) => {
    const r = await promQuery(prometheus!.url, expand(expr))
    expect(r.ok ? 'ok' : `${r.errorType}: ${r.error}`).toBe('ok')
  })

  it('finds this test\'s line and model through the template variables', async () => {
    for (const q of queries.filter((v) => v.variable)) {
      const m = /^label_values\((\w+), (\w+)\)$/.exec(q.expr)
      expect(m, `${q.where}: ${q.expr}`).not.toBeNull()
      const [, metric, label] = m!
      const res = await fetch(`${prometheus!.url}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': metric! })}`)
      const body = (await res.json()) as { status: string; data: string[] }
      expect(body.status).toBe('success')
      expect(body.data, q.where).toContain(VALUES[label === 'line' ? 'line' : 'model'])
    }
  })

  it('shows data on the panels this traffic feeds', async () => {
    const withData: string[] = []
    for (const q of queries.filter((v) => !v.variable)) {
      const r = await promQuery(prometheus!.url, expand(q.expr))
      if (r.ok && r.result.length > 0) withData.push(q.where)
    }
    console.info(`monitoring-dashboards: ${withData.length} of ${queries.filter((v) => !v.variable).length} panel queries returned data`)
    expect(withData).toEqual(
      expect.arrayContaining([
        'linesight / Overview / Frames / s',
        'linesight / Overview / Results by verdict',
        'linesight / Line / Results by verdict',
        'linesight / Line / Skips by reason',
        'linesight / Line / Activity against yesterday',
        'linesight / Inference / Time per stage (p95)',
        'linesight / Inference / Server inference (p95)',
        'linesight / Inference / Models serving',
        'linesight / Queue / Depth by queue',
        'linesight / Stations and browsers / Stations',
        'linesight / Stations and browsers / Shadow disagreement',
      ]),
    )
  })
})
