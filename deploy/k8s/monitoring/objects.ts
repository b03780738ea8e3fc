/**
 * The Prometheus-operator and Grafana-sidecar objects for deploy/k8s/monitoring, made from the
 * files the rest of the monitoring is made from: the PrometheusRule carries the groups of
 * deploy/monitoring/alerts.yml (the rules `promtool test rules` tests), and the dashboards
 * ConfigMap the JSON of deploy/monitoring/grafana/dashboards/. Written by print.ts; a test fails
 * when the committed files differ from what these functions make.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'

const MONITORING = new URL('../../monitoring/', import.meta.url).pathname
const LABELS = { 'app.kubernetes.io/name': 'linesight', 'app.kubernetes.io/component': 'monitoring', 'app.kubernetes.io/part-of': 'linesight' }

const HEADER = (what: string) =>
  `# Generated from ${what} by \`npm run k8s:monitoring\` (deploy/k8s/monitoring/print.ts): edit the\n# source and regenerate; test/integration/deploy-manifests.test.ts fails when this file drifts.\n`

export function prometheusRule(): object {
  const alerts = parse(readFileSync(join(MONITORING, 'alerts.yml'), 'utf8')) as { groups: unknown[] }
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'linesight', namespace: 'linesight', labels: { ...LABELS, release: 'kube-prometheus-stack' } },
    spec: { groups: alerts.groups },
  }
}

export function dashboardsConfigMap(): object {
  const dir = join(MONITORING, 'grafana/dashboards')
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'linesight-grafana-dashboards',
      namespace: 'linesight',
      // the Grafana sidecar (kube-prometheus-stack, grafana chart) loads ConfigMaps with this label
      labels: { ...LABELS, grafana_dashboard: '1' },
      annotations: { grafana_folder: 'linesight' },
    },
    data: Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')])),
  }
}

export const GENERATED: { file: string; source: string; make: () => object }[] = [
  { file: 'prometheusrule.yaml', source: 'deploy/monitoring/alerts.yml', make: prometheusRule },
  { file: 'grafana-dashboards.yaml', source: 'deploy/monitoring/grafana/dashboards/*.json', make: dashboardsConfigMap },
]

export function generatedText(g: (typeof GENERATED)[number]): string {
  return HEADER(g.source) + stringify(g.make(), { lineWidth: 0 })
}
