/**
 * What a Kubernetes user expects beside the workloads (deploy/k8s): Pod Security labels, a
 * NetworkPolicy per role, pods spread over nodes and zones, an autoscaler Role limited by
 * resourceNames, and the monitoring objects of the Prometheus operator and Grafana's sidecar,
 * generated from the files the rest of the monitoring uses. No cluster runs here: the objects are
 * validated against the API schemas (kubernetes-models, @kubernetes-models/keda and
 * @kubernetes-models/prometheus-operator) and checked for the fields linesight depends on.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { GENERATED, generatedText } from '../../deploy/k8s/monitoring/objects.ts'
import { renderKustomization, type K8sObject } from '../../deploy/k8s/testing/kustomize.ts'
import { validateObject } from '../../deploy/k8s/testing/validate.ts'
import { ROOT } from '../helpers/server.ts'

const K8S = join(ROOT, 'deploy/k8s')
const base = renderKustomization(join(K8S, 'base'))
const monitoring = renderKustomization(join(K8S, 'monitoring'))
const ROLES = ['gateway', 'worker'] as const

type Pod = { metadata: { labels: Record<string, string> }; spec: { topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[] } }
type Policy = K8sObject & { spec: { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; ingress?: { ports?: { port: number | string }[] }[]; egress?: { ports?: { port: number | string }[] }[] } }
const of = <T>(kind: string, name: string, objects = base) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name)
  if (!o) throw new Error(`no ${kind}/${name}`)
  return o as T
}

describe('kubernetes hardening', () => {
  it('enforces the restricted Pod Security profile on the namespace', () => {
    const ns = of<K8sObject & { metadata: { labels: Record<string, string> } }>('Namespace', 'linesight')
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted')
    expect(ns.metadata.labels['pod-security.kubernetes.io/warn']).toBe('restricted')
  })

  it('denies all traffic by default and opens per role only the ports each uses', () => {
    const deny = of<Policy>('NetworkPolicy', 'linesight-default-deny')
    expect(deny.spec.podSelector).toEqual({})
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress'])
    for (const role of ROLES) {
      const p = of<Policy>('NetworkPolicy', `linesight-${role}`)
      expect(p.spec.podSelector.matchLabels?.['app.kubernetes.io/component']).toBe(role)
      expect(p.spec.ingress?.flatMap((r) => r.ports?.map((x) => x.port) ?? [])).toEqual(['http'])
      const egress = p.spec.egress!.flatMap((r) => r.ports?.map((x) => x.port) ?? [])
      expect(egress).toEqual(expect.arrayContaining([53, 5672, 5432]))
    }
  })

  it('spreads gateways and workers over zones and nodes', () => {
    for (const role of ROLES) {
      const d = of<{ spec: { template: Pod } }>('Deployment', `linesight-${role}`)
      const spread = d.spec.template.spec.topologySpreadConstraints ?? []
      expect(spread.map((s) => s.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone'])
      for (const s of spread) expect(s.labelSelector.matchLabels['app.kubernetes.io/component']).toBe(role)
    }
  })

  it('limits the autoscaler Role to the worker Deployment and its ScaledObject by name', () => {
    const role = of<K8sObject & { rules: { resources: string[]; resourceNames?: string[] }[] }>('Role', 'linesight-autoscaler')
    for (const rule of role.rules) expect(rule.resourceNames).toEqual(['linesight-worker'])
    of('Deployment', 'linesight-worker')
    of('ScaledObject', 'linesight-worker')
  })
})

describe('kubernetes monitoring (deploy/k8s/monitoring)', () => {
  it('renders only objects valid against the Prometheus operator and Kubernetes schemas', () => {
    expect(monitoring.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PodMonitor', 'PrometheusRule'])
    expect(monitoring.flatMap(validateObject)).toEqual([])
  })

  it('commits exactly what npm run k8s:monitoring generates', () => {
    for (const g of GENERATED) expect(readFileSync(join(K8S, 'monitoring', g.file), 'utf8'), g.file).toBe(generatedText(g))
  })

  it('carries in its PrometheusRule the very rule groups promtool tests', () => {
    const rule = of<{ spec: { groups: unknown } }>('PrometheusRule', 'linesight', monitoring)
    const tested = parse(readFileSync(join(ROOT, 'deploy/monitoring/alerts.yml'), 'utf8')) as { groups: unknown }
    expect(rule.spec.groups).toEqual(tested.groups)
  })

  it('gives the Grafana sidecar every dashboard, labelled for it', () => {
    const cm = of<K8sObject & { metadata: { labels: Record<string, string> }; data: Record<string, string> }>('ConfigMap', 'linesight-grafana-dashboards', monitoring)
    expect(cm.metadata.labels.grafana_dashboard).toBe('1')
    expect(Object.keys(cm.data).sort()).toEqual(['inference.json', 'line.json', 'overview.json', 'queue.json', 'stations.json'])
    for (const text of Object.values(cm.data)) expect((JSON.parse(text) as { uid?: string }).uid).toBeTruthy()
  })

  it('scrapes every linesight pod on its http port with the role label the alerts group by', () => {
    const pm = of<{ spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string; relabelings: { targetLabel: string }[] }[] } }>('PodMonitor', 'linesight', monitoring)
    expect(pm.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'linesight' })
    for (const role of ROLES) {
      const d = of<{ spec: { template: Pod & { spec: { containers: { ports: { name: string }[] }[] } } } }>('Deployment', `linesight-${role}`)
      expect(d.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('linesight')
      expect(d.spec.template.spec.containers[0]!.ports.map((p) => p.name)).toContain(pm.spec.podMetricsEndpoints[0]!.port)
    }
    expect(pm.spec.podMetricsEndpoints[0]!.path).toBe('/metrics')
    expect(pm.spec.podMetricsEndpoints[0]!.relabelings.map((r) => r.targetLabel)).toContain('role')
  })
})

describe('compose', () => {
  const compose = parse(readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8')) as {
    services: Record<string, { image?: string; deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } } }>
  }
  const anchors = parse(readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8'), { merge: true }) as typeof compose

  it('limits the CPU and memory of every service', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.deploy?.resources?.limits?.cpus, name).toBeTruthy()
      expect(svc.deploy?.resources?.limits?.memory, name).toBeTruthy()
    }
  })

  it('runs RabbitMQ 4 and Grafana 12', () => {
    expect(anchors.services.rabbitmq!.image).toMatch(/^rabbitmq:4\.\d+-management$/)
    expect(anchors.services.grafana!.image).toMatch(/^grafana\/grafana:12\.\d+\.\d+$/)
  })
})
