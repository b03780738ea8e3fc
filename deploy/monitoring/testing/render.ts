/**
 * The one documented step between the shipped monitoring files and what the tests run.
 *
 * Shipped files scrape every 15 s and hold alerts for minutes; a test cannot wait that long. So:
 *  - prometheus.yml keeps its `linesight` job (metrics path, relabelling) and loses only what
 *    names the deployment: the service discovery becomes the test's one target, the
 *    Alertmanager address becomes the test's, the other jobs (broker, Prometheus itself) go, and
 *    the global scrape/evaluation intervals shrink;
 *  - alerts.yml keeps every rule's name, expression, labels and annotations; only `for:` is
 *    capped (a rule with `for: 10m` and a cap of 3s waits 3 s). `renderedRulesDiffer` proves it.
 */
import { parse, stringify } from 'yaml'

export interface PrometheusRendering {
  /** host:port of the linesight process under test. */
  target: string
  /** host:port of the test's Alertmanager; none: alerts are evaluated but not sent. */
  alertmanager?: string
  /** Absolute path of the rendered rule file. */
  ruleFile: string
  /** e.g. '1s'. */
  interval: string
}

interface ScrapeConfig {
  job_name: string
  [k: string]: unknown
}

interface PrometheusConfig {
  global?: Record<string, unknown>
  rule_files?: string[]
  alerting?: unknown
  scrape_configs: ScrapeConfig[]
}

const SERVICE_DISCOVERY = /_sd_configs$|^static_configs$/

export function renderPrometheusConfig(shipped: string, r: PrometheusRendering): string {
  const config = parse(shipped) as PrometheusConfig
  const job = config.scrape_configs.find((j) => j.job_name === 'linesight')
  if (!job) throw new Error('prometheus.yml has no `linesight` scrape job')
  for (const key of Object.keys(job)) if (SERVICE_DISCOVERY.test(key)) delete job[key]
  // __meta_dns_name stands in for the name the compose DNS discovery would have found, so the
  // shipped relabelling (role = the service's name) runs unchanged
  job.static_configs = [{ targets: [r.target], labels: { __meta_dns_name: 'all' } }]
  config.scrape_configs = [job]
  config.global = { ...config.global, scrape_interval: r.interval, evaluation_interval: r.interval }
  config.rule_files = [r.ruleFile]
  if (r.alertmanager) config.alerting = { alertmanagers: [{ static_configs: [{ targets: [r.alertmanager] }] }] }
  else delete config.alerting
  return stringify(config)
}

interface Rule {
  alert?: string
  record?: string
  expr: string
  for?: string
  [k: string]: unknown
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[]
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }

/** Seconds in a Prometheus duration such as `1h30m` or `500ms`. */
export function durationSeconds(d: string): number {
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)]
  if (!parts.length || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a Prometheus duration: ${d}`)
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0)
}

/** The shipped rules with every `for:` capped at `maxFor` and no per-group interval. */
export function renderRules(shipped: string, maxFor: string): string {
  const file = parse(shipped) as RuleFile
  const cap = durationSeconds(maxFor)
  for (const g of file.groups) {
    delete g.interval
    for (const rule of g.rules) if (rule.for !== undefined && durationSeconds(rule.for) > cap) rule.for = maxFor
  }
  return stringify(file)
}

/** What differs between shipped and rendered rules, other than `for:` and group intervals (should be nothing). */
export function renderedRulesDiffer(shipped: string, rendered: string): string[] {
  const strip = (text: string) => {
    const f = parse(text) as RuleFile
    return f.groups.map((g) => ({ name: g.name, rules: g.rules.map(({ for: _for, ...rest }) => rest) }))
  }
  const a = strip(shipped)
  const b = strip(rendered)
  const problems: string[] = []
  if (a.length !== b.length) problems.push(`groups: ${a.length} shipped, ${b.length} rendered`)
  a.forEach((g, i) => {
    if (JSON.stringify(g) !== JSON.stringify(b[i])) problems.push(`group ${g.name} differs`)
  })
  return problems
}
