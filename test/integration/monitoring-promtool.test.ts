/**
 * The shipped monitoring files, checked by Prometheus's own tools: `promtool check rules`,
 * `promtool check config`, `amtool check-config`, and `promtool test rules` on the unit tests in
 * deploy/monitoring/tests (every alert fires with its labels and annotations when it should and
 * stays quiet when it should not). Plus what promtool cannot know: every alert has a runbook
 * paragraph and a test of each kind, and every series the rules name is one linesight exports.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { describe, expect, it } from 'vitest'
import { exportedSeriesNames } from '../../server/metrics/reference.ts'
import { monitoringBinaries } from '../../deploy/monitoring/testing/processes.ts'
import { ROOT } from '../helpers/server.ts'

const MON = join(ROOT, 'deploy/monitoring')
const bins = await monitoringBinaries()
if (!bins.promtool) console.warn('monitoring-promtool: promtool is not installed (Debian: apt-get install prometheus); skipping the promtool checks')

interface Rule {
  alert?: string
  record?: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
const rules = (parse(readFileSync(join(MON, 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules)
const alerts = rules.filter((r) => r.alert)
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])))
const testFiles = readdirSync(join(MON, 'tests')).filter((f) => f.endsWith('.yml')).sort()

function run(binary: string, args: string[], cwd = MON): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd, timeout: 170_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, out: `${stdout}${stderr}` })
    })
  })
}

describe.skipIf(!bins.promtool)('promtool', () => {
  it('accepts the rule file', async () => {
    const r = await run(bins.promtool!, ['check', 'rules', 'alerts.yml'])
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(r.code).toBe(0)
  })

  // promtool checks that the scrape's credentials_file exists: the metrics token an operator
  // writes beside prometheus.yml (deploy/README.md) is given here as a stand-in
  it('accepts the single-host Prometheus configuration and its rule file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ls-promtool-'))
    try {
      await writeFile(join(dir, 'prometheus.yml'), readFileSync(join(MON, 'prometheus.yml')))
      await writeFile(join(dir, 'alerts.yml'), readFileSync(join(MON, 'alerts.yml')))
      await writeFile(join(dir, 'linesight-metrics-token'), 'ls_metrics_token_of_the_operator\n')
      const r = await run(bins.promtool!, ['check', 'config', 'prometheus.yml'], dir)
      expect(r.code, r.out).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  // Debian builds Prometheus without the Kubernetes discovery (it would pull in client-go), so
  // promtool there refuses `kubernetes_sd_configs` as an unknown field. Everything else in the
  // file is still checked: the discovery block is swapped for a static one and its shape
  // asserted here.
  it('accepts the Kubernetes Prometheus configuration', async () => {
    const text = readFileSync(join(MON, 'prometheus-kubernetes.yml'), 'utf8')
    const direct = await run(bins.promtool!, ['check', 'config', 'prometheus-kubernetes.yml'])
    if (direct.code === 0) return
    expect(direct.out).toContain('field kubernetes_sd_configs not found')
    const config = parse(text) as { scrape_configs: ({ job_name: string; kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[] } & Record<string, unknown>)[] }
    const job = config.scrape_configs.find((j) => j.job_name === 'linesight')!
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['linesight'] } }])
    delete job.kubernetes_sd_configs
    job.static_configs = [{ targets: ['127.0.0.1:8080'] }]
    const dir = await mkdtemp(join(tmpdir(), 'ls-promtool-'))
    try {
      await writeFile(join(dir, 'prometheus.yml'), stringify(config))
      await writeFile(join(dir, 'alerts.yml'), readFileSync(join(MON, 'alerts.yml')))
      await writeFile(join(dir, 'linesight-metrics-token'), 'ls_metrics_token_of_the_operator\n')
      const r = await run(bins.promtool!, ['check', 'config', 'prometheus.yml'], dir)
      expect(r.code, r.out).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it.skipIf(!bins.amtool)('accepts the example Alertmanager configuration', async () => {
    const r = await run(bins.amtool!, ['check-config', 'alertmanager.yml'])
    expect(r.code, r.out).toBe(0)
  })

  // promtool evaluates every rule at every step of a test's time range (26 hours for the silent
  // line): seconds alone, much longer on a machine busy with browser tests
  it.each(testFiles)('passes the rule unit tests in deploy/monitoring/tests/%s', async (file) => {
    const r = await run(bins.promtool!, ['test', 'rules', `tests/${file}`])
    expect(r.code, r.out).toBe(0)
    expect(r.out).toContain('SUCCESS')
  }, 180_000)
})

describe('rule unit tests cover every alert', () => {
  interface AlertTest {
    alertname: string
    exp_alerts?: unknown[]
  }
  const cases = testFiles.flatMap((f) => {
    const doc = parse(readFileSync(join(MON, 'tests', f), 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }
    return doc.tests.flatMap((t) => t.alert_rule_test ?? [])
  })

  it.each(alerts.map((a) => [a.alert!]))('%s is tested firing and tested quiet', (name) => {
    const mine = cases.filter((c) => c.alertname === name)
    expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name}: no test where it fires`).toBe(true)
    expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name}: no test where it stays quiet`).toBe(true)
  })

  it('tests only alerts that exist', () => {
    const names = new Set(alerts.map((a) => a.alert))
    expect(cases.map((c) => c.alertname).filter((n) => !names.has(n))).toEqual([])
  })

  it('feeds the tests only series linesight exports (or Prometheus itself: up)', () => {
    const exported = exportedSeriesNames()
    const unknown = testFiles.flatMap((f) => {
      const doc = parse(readFileSync(join(MON, 'tests', f), 'utf8')) as { tests: { input_series: { series: string }[] }[] }
      return doc.tests.flatMap((t) => t.input_series.map((s) => s.series.split('{')[0]!)).filter((n) => n !== 'up' && !exported.has(n))
    })
    expect(unknown).toEqual([])
  })
})

describe('alert rules', () => {
  const runbook = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8')
  const anchors = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')))

  it.each(alerts.map((a) => [a.alert!, a] as const))('%s has a severity, a summary, a description and a runbook paragraph', (name, a) => {
    expect(['critical', 'warning', 'info']).toContain(a.labels?.severity)
    expect(a.labels?.component).toBeTruthy()
    expect(a.annotations?.summary).toBeTruthy()
    expect(a.annotations?.description).toBeTruthy()
    const url = a.annotations?.runbook_url ?? ''
    expect(url).toMatch(/\/docs\/runbook\.md#[a-z0-9-]+$/)
    const anchor = url.split('#')[1]!
    expect(anchor).toBe(name.toLowerCase())
    expect(anchors.has(anchor), `docs/runbook.md has no "## ${name}" section`).toBe(true)
  })

  it('name only series that linesight exports or the rule file records', () => {
    const exported = exportedSeriesNames()
    const problems: string[] = []
    for (const r of rules) {
      for (const [name] of r.expr.matchAll(/\blinesight[_:][A-Za-z0-9_:]+/g)) {
        if (name.includes(':') ? !recorded.has(name) : !exported.has(name)) problems.push(`${r.alert ?? r.record}: ${name}`)
      }
    }
    expect(problems).toEqual([])
  })
})
