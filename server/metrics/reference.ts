/**
 * The metrics reference, read from the registry itself: docs/metrics.md is this module's output
 * (`npx tsx server/metrics/print-reference.ts > docs/metrics.md`) and a test fails when the two
 * differ, so the table cannot drift from the code. The dashboard and alert tests use
 * `exportedSeriesNames()` to refuse a query that names a series linesight never exports.
 */
import client, { type MetricObject, type Registry } from 'prom-client'
import { registerGpuMetrics } from './gpu.ts'
import { createMetrics } from './metrics.ts'

export interface MetricReference {
  name: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary'
  help: string
  labels: readonly string[]
  /** Histogram upper bounds (without +Inf). */
  buckets?: readonly number[]
  /** Set for metrics only some processes export. */
  only?: string
}

/**
 * prom-client keeps label names and bounds on the metric object but leaves them out of its
 * typings, and types `type` as an enum that is a plain string at runtime.
 */
type Introspectable = Omit<MetricObject, 'type'> & { type: string; labelNames?: readonly string[]; upperBounds?: readonly number[] }
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary'])

function describeRegistry(registry: Registry, only?: string): MetricReference[] {
  const metrics = registry.getMetricsAsArray() as unknown as Introspectable[]
  return metrics
    .filter((m) => m.name.startsWith('linesight_'))
    .map((m) => {
      if (!TYPES.has(m.type)) throw new Error(`${m.name}: unknown metric type ${m.type}`)
      return {
        name: m.name,
        type: m.type as MetricReference['type'],
        help: m.help,
        labels: [...(m.labelNames ?? [])],
        ...(m.type === 'histogram' && m.upperBounds ? { buckets: [...m.upperBounds] } : {}),
        ...(only ? { only } : {}),
      }
    })
}

/** Every linesight metric: the main registry, then the ones registered only where they apply. */
export function metricReference(): MetricReference[] {
  const main = describeRegistry(createMetrics({ defaultMetrics: false }).registry)
  const gpuRegistry = new client.Registry()
  registerGpuMetrics(gpuRegistry)
  const gpu = describeRegistry(gpuRegistry, 'processes where `nvidia-smi` is installed (server/metrics/gpu.ts)')
  return [...main, ...gpu].sort((a, b) => a.name.localeCompare(b.name))
}

/** The series names Prometheus stores for each metric (a histogram is three). */
export function exportedSeriesNames(refs: readonly MetricReference[] = metricReference()): Set<string> {
  const names = new Set<string>()
  for (const r of refs) {
    if (r.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(r.name + s)
    else if (r.type === 'summary') for (const s of ['', '_sum', '_count']) names.add(r.name + s)
    else names.add(r.name)
  }
  return names
}

export function unitOf(name: string): string {
  if (name.endsWith('_seconds')) return 'seconds'
  if (name.endsWith('_bytes')) return 'bytes'
  if (name.endsWith('_ratio')) return 'ratio (0-1)'
  if (name.endsWith('_info')) return 'info (always 1)'
  if (name.endsWith('_batch_size')) return 'frames'
  if (name.endsWith('_paused')) return 'flag (0 or 1)'
  return 'count'
}

const seconds = (s: number) => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s} s`)

function describeBuckets(r: MetricReference): string {
  if (!r.buckets?.length) return ''
  const fmt = r.name.endsWith('_seconds') ? seconds : String
  return ` Buckets: ${r.buckets.map(fmt).join(', ')}.`
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

export function referenceMarkdown(refs: readonly MetricReference[] = metricReference()): string {
  const rows = refs.map((r) => {
    const labels = r.labels.length ? r.labels.map((l) => `\`${l}\``).join(', ') : '-'
    const only = r.only ? ` Exported only by ${r.only}.` : ''
    return `| \`${r.name}\` | ${r.type} | ${unitOf(r.name)} | ${labels} | ${cell(r.help)}${describeBuckets(r)}${only} |`
  })
  return [
    '# linesight metrics',
    '',
    '<!-- Generated from the registry by `npx tsx server/metrics/print-reference.ts > docs/metrics.md`; do not edit by hand. -->',
    '',
    'Every process serves these on `GET /metrics` (gateways and all-in-one processes on `PORT`;',
    'worker processes on `PORT` as well, through server/metrics/worker-endpoint.ts). Names start with',
    '`linesight_`, values are in base units (seconds, bytes, ratios 0-1) and counters end in `_total`.',
    'A histogram is stored by Prometheus as `<name>_bucket`, `<name>_sum` and `<name>_count`.',
    'prom-client\'s default process metrics (`process_*`, `nodejs_*`) are exported beside them.',
    '',
    'Alerts built on these are in deploy/monitoring/alerts.yml, explained in docs/runbook.md.',
    '',
    '| Metric | Type | Unit | Labels | Meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}
