/**
 * Keeps deploy/ honest against the code: the Kubernetes base and overlays (rendered by
 * deploy/k8s/testing/kustomize.ts, compared with `kubectl kustomize` where kubectl exists) are
 * valid API objects; probes hit the server's health routes on the PORT it listens on; every
 * environment variable in the manifests, the compose file and the image is a setting of
 * server/config/settings.ts; images, labels and selectors agree; KEDA watches the queues the
 * queue layer declares; no secret is committed.
 */
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { SETTINGS } from '../../server/config/settings.ts'
import { loadConfig } from '../../server/config/index.ts'
import { healthRoutes } from '../../server/api/health.ts'
import type { Core } from '../../server/core.ts'
import { rabbitOptionsFromConfig } from '../../server/queue/rabbitmq.ts'
import { topologyNames } from '../../server/queue/topology.ts'
import { findExecutable } from '../../server/metrics/gpu.ts'
import { objectKey, renderKustomization, type K8sObject } from '../../deploy/k8s/testing/kustomize.ts'
import { validateObject } from '../../deploy/k8s/testing/validate.ts'
import { ROOT } from '../helpers/server.ts'

const K8S = join(ROOT, 'deploy/k8s')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const IMAGE = 'ghcr.io/linesight/linesight'
const CUDA_IMAGE = 'ghcr.io/linesight/linesight-cuda'
const settingsByEnv = new Map(Object.values(SETTINGS).map((s) => [s.env, s as { env: string; default: unknown; secret?: boolean }]))
const HEALTH_PATHS = new Set(healthRoutes({} as Core).map((r) => r.pattern))
const SECRET_NAME = 'linesight-secrets'
const deployReadme = readFileSync(join(ROOT, 'deploy/README.md'), 'utf8')

interface Container {
  name: string
  image: string
  env?: { name: string; value?: string }[]
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[]
  ports?: { name?: string; containerPort: number }[]
  livenessProbe?: { httpGet?: { path: string; port: string | number } }
  readinessProbe?: { httpGet?: { path: string; port: string | number } }
  startupProbe?: { httpGet?: { path: string; port: string | number } }
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> }
}
interface PodSpec {
  containers: Container[]
  terminationGracePeriodSeconds?: number
  serviceAccountName?: string
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }
}

const overlays = { base: renderKustomization(join(K8S, 'base')), cpu: renderKustomization(join(K8S, 'overlays/cpu')), gpu: renderKustomization(join(K8S, 'overlays/gpu')) }
const find = <T extends K8sObject>(objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name)
  if (!o) throw new Error(`no ${kind}/${name}`)
  return o as T
}
const configMap = (objects: K8sObject[]) => find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'linesight-config')
const deployments = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment') as Deployment[]
const container = (d: Deployment) => d.spec.template.spec.containers.find((c) => c.name === 'linesight')!
const subset = (small: Record<string, string>, big: Record<string, string>) => Object.entries(small).every(([k, v]) => big[k] === v)

/** A setting's value in a container: its env, then the ConfigMap it loads, then the default. */
function settingIn(objects: K8sObject[], c: Container, env: string): string {
  const direct = c.env?.find((e) => e.name === env)?.value
  if (direct !== undefined) return direct
  const cm = configMap(objects).data[env]
  if (cm !== undefined && c.envFrom?.some((f) => f.configMapRef?.name === 'linesight-config')) return cm
  return String(settingsByEnv.get(env)!.default)
}

describe.each(Object.entries(overlays))('kubernetes %s', (name, objects) => {
  it('renders only objects valid against the Kubernetes and KEDA schemas', () => {
    expect(objects.length).toBeGreaterThan(10)
    expect(objects.flatMap(validateObject)).toEqual([])
  })

  it('puts every namespaced object in the linesight namespace, with the app labels', () => {
    for (const o of objects) {
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, objectKey(o)).toBe('linesight')
      expect(o.metadata.labels?.['app.kubernetes.io/name'], objectKey(o)).toBe('linesight')
      expect(o.metadata.labels?.['app.kubernetes.io/part-of'], objectKey(o)).toBe('linesight')
    }
    expect(objects.some((o) => o.kind === 'Namespace' && o.metadata.name === 'linesight')).toBe(true)
  })

  it('commits no Secret, and references only the documented one with settings marked secret', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([])
    const refs = deployments(objects).flatMap((d) => d.spec.template.spec.containers.flatMap((c) => (c.envFrom ?? []).flatMap((f) => (f.secretRef ? [f.secretRef.name] : []))))
    expect(new Set(refs)).toEqual(new Set([SECRET_NAME]))
    expect(deployReadme).toContain(SECRET_NAME)
    for (const env of ['AMQP_URL', 'DATABASE_URL', 'LINESIGHT_ADMIN_TOKEN']) {
      expect(settingsByEnv.get(env)?.secret, env).toBe(true)
      expect(deployReadme).toContain(`${env}=`)
    }
  })

  it('sets only environment variables that are linesight settings, and no secret in the ConfigMap', () => {
    const used = [...Object.keys(configMap(objects).data), ...deployments(objects).flatMap((d) => d.spec.template.spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.name)))]
    expect(used.filter((e) => !settingsByEnv.has(e))).toEqual([])
    expect(Object.keys(configMap(objects).data).filter((e) => settingsByEnv.get(e)?.secret)).toEqual([])
    expect(() => loadConfig(configMap(objects).data)).not.toThrow()
  })

  it('probes the server\'s health routes on the port it listens on', () => {
    for (const d of deployments(objects)) {
      const c = container(d)
      const port = Number(settingIn(objects, c, 'PORT'))
      expect(c.livenessProbe?.httpGet?.path, d.metadata.name).toBe('/health')
      expect(c.readinessProbe?.httpGet?.path, d.metadata.name).toBe('/ready')
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        expect(HEALTH_PATHS.has(probe!.httpGet!.path), probe!.httpGet!.path).toBe(true)
        const p = probe!.httpGet!.port
        expect(typeof p === 'number' ? p : c.ports?.find((x) => x.name === p)?.containerPort, d.metadata.name).toBe(port)
      }
    }
  })

  it('gives pods long enough to drain: gateways the preStop pause, the drain and the longest request, workers the watchdog limit', () => {
    const detectTimeoutMs = Number(/const DETECT_TIMEOUT_MS = ([\d_]+)/.exec(readFileSync(join(ROOT, 'server/api/detect.ts'), 'utf8'))![1]!.replaceAll('_', ''))
    const gateway = find<Deployment>(objects, 'Deployment', 'linesight-gateway')
    const preStop = container(gateway).lifecycle?.preStop?.exec?.command
    expect(preStop?.[0]).toBe('sleep')
    const drainMs = Number(settingIn(objects, container(gateway), 'SHUTDOWN_DRAIN_MS'))
    expect(gateway.spec.template.spec.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(Number(preStop![1]) + (drainMs + detectTimeoutMs) / 1000)
    const worker = find<Deployment>(objects, 'Deployment', 'linesight-worker')
    const watchdogMs = Number(settingIn(objects, container(worker), 'WATCHDOG_TIMEOUT_MS'))
    expect(worker.spec.template.spec.terminationGracePeriodSeconds!).toBeGreaterThan(watchdogMs / 1000)
  })

  it('runs each role where its name says, with selectors that match only its own pods', () => {
    for (const [deployment, role] of [['linesight-gateway', 'gateway'], ['linesight-worker', 'worker']] as const) {
      const d = find<Deployment>(objects, 'Deployment', deployment)
      expect(settingIn(objects, container(d), 'LINESIGHT_ROLE')).toBe(role)
      expect(d.spec.template.metadata.labels['app.kubernetes.io/component']).toBe(role)
      expect(subset(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true)
      // the autoscalers own the replica count; a fixed one would be reset on every apply
      expect(d.spec.replicas).toBeUndefined()
    }
    const gateway = find<Deployment>(objects, 'Deployment', 'linesight-gateway')
    const worker = find<Deployment>(objects, 'Deployment', 'linesight-worker')
    const service = find<K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } }>(objects, 'Service', 'linesight-gateway')
    expect(subset(service.spec.selector, gateway.spec.template.metadata.labels)).toBe(true)
    expect(subset(service.spec.selector, worker.spec.template.metadata.labels)).toBe(false)
    expect(container(gateway).ports?.map((p) => p.name)).toContain(service.spec.ports[0]!.targetPort)
    for (const [pdb, d] of [['linesight-gateway', gateway], ['linesight-worker', worker]] as const) {
      const sel = find<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget', pdb).spec.selector.matchLabels
      expect(subset(sel, d.spec.template.metadata.labels), pdb).toBe(true)
    }
    const ingress = find<K8sObject & { spec: { rules: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] } }>(objects, 'Ingress', 'linesight')
    const backend = ingress.spec.rules[0]!.http.paths[0]!.backend.service
    expect(backend.name).toBe(service.metadata.name)
    expect(service.spec.ports.map((p) => p.name)).toContain(backend.port.name)
    expect(Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600)
  })

  it('scales gateways with an HPA and workers with KEDA on the queues the queue layer declares, counting unacked frames', () => {
    const hpa = find<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(objects, 'HorizontalPodAutoscaler', 'linesight-gateway')
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'linesight-gateway' })
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
    interface Trigger { metadata: { protocol: string; mode: string; queueName: string }; authenticationRef: { name: string } }
    const so = find<K8sObject & { spec: { scaleTargetRef: { name: string }; fallback?: { replicas: number }; triggers: Trigger[] } }>(objects, 'ScaledObject', 'linesight-worker')
    expect(so.spec.scaleTargetRef.name).toBe('linesight-worker')
    expect(so.spec.fallback?.replicas).toBeGreaterThan(0)
    const names = topologyNames(rabbitOptionsFromConfig(loadConfig({ AMQP_URL: 'amqp://guest:guest@localhost' })).prefix)
    expect(so.spec.triggers.map((t) => t.metadata.queueName).sort()).toEqual([names.queues.batch, names.queues.live].sort())
    for (const t of so.spec.triggers) {
      // QueueLength over the management API counts ready + unacked; over AMQP only ready
      expect(t.metadata).toMatchObject({ protocol: 'http', mode: 'QueueLength' })
      find(objects, 'TriggerAuthentication', t.authenticationRef.name)
    }
  })

  it('gives the workers\' autoscaler exactly the rights it needs, in its namespace', () => {
    const binding = find<K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>(objects, 'RoleBinding', 'linesight-autoscaler')
    expect(binding.roleRef.kind).toBe('Role')
    const role = find<K8sObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(objects, 'Role', binding.roleRef.name)
    for (const s of binding.subjects) find(objects, s.kind, s.name)
    const can = (group: string, resource: string, verb: string) => role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb))
    // what server/scaling/actuators/kubernetes.ts calls: read the Deployment, patch its scale or
    // the ScaledObject
    expect(can('apps', 'deployments', 'get')).toBe(true)
    expect(can('apps', 'deployments/scale', 'patch')).toBe(true)
    expect(can('keda.sh', 'scaledobjects', 'get')).toBe(true)
    expect(can('keda.sh', 'scaledobjects', 'patch')).toBe(true)
    expect(role.rules.flatMap((r) => r.verbs).filter((v) => !['get', 'patch'].includes(v))).toEqual([])
    expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false)
  })

  it('runs the image of this version; GPU workers, and only they, run the CUDA image with a GPU', () => {
    const gateway = container(find<Deployment>(objects, 'Deployment', 'linesight-gateway'))
    const worker = container(find<Deployment>(objects, 'Deployment', 'linesight-worker'))
    expect(gateway.image).toBe(`${IMAGE}:${VERSION}`)
    expect(gateway.resources?.limits?.['nvidia.com/gpu']).toBeUndefined()
    if (name === 'gpu') {
      expect(worker.image).toBe(`${CUDA_IMAGE}:${VERSION}`)
      expect(Number(worker.resources?.limits?.['nvidia.com/gpu'])).toBeGreaterThanOrEqual(1)
      expect(settingIn(objects, worker, 'INFERENCE_EPS').split(',')[0]).toBe('cuda')
    } else {
      expect(worker.image).toBe(`${IMAGE}:${VERSION}`)
      expect(worker.resources?.limits?.['nvidia.com/gpu']).toBeUndefined()
      expect(settingIn(objects, worker, 'INFERENCE_EPS')).toBe('cpu')
    }
  })

  it('labels and names its pods the way prometheus-kubernetes.yml finds them', () => {
    const scrape = readFileSync(join(ROOT, 'deploy/monitoring/prometheus-kubernetes.yml'), 'utf8')
    expect(scrape).toContain('names: [linesight]')
    for (const d of deployments(objects)) {
      expect(d.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('linesight')
      expect(container(d).ports?.some((p) => p.name === 'http')).toBe(true)
    }
  })
})

const kubectl = await findExecutable('kubectl')
if (!kubectl) console.warn('deploy-manifests: kubectl is not installed; the kustomize renderer is not compared with kubectl kustomize')

describe.skipIf(!kubectl)('the kustomize renderer', () => {
  /** kustomize orders merged list items differently; their order carries no meaning here. */
  const normalize = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(normalize)
      return items.every((i) => typeof i === 'object' && i !== null && 'name' in i) ? [...items].sort((a, b) => String((a as { name: string }).name).localeCompare(String((b as { name: string }).name))) : items
    }
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
    return v
  }
  const kustomize = (dir: string) =>
    new Promise<K8sObject[]>((resolve, reject) => {
      execFile(kubectl!, ['kustomize', dir], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject))))
    })

  it.each(Object.keys(overlays))('renders %s as kubectl kustomize does', async (name) => {
    const dir = join(K8S, name === 'base' ? 'base' : `overlays/${name}`)
    const theirs = new Map((await kustomize(dir)).map((o) => [objectKey(o), normalize(o)]))
    const ours = new Map(overlays[name as keyof typeof overlays].map((o) => [objectKey(o), normalize(o)]))
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort())
    for (const [key, o] of ours) expect(o, key).toEqual(theirs.get(key))
  })
})

describe('compose', () => {
  const dir = join(ROOT, 'deploy/compose')
  const text = readFileSync(join(dir, 'compose.yaml'), 'utf8')
  interface Service {
    image?: string
    environment?: Record<string, string>
    volumes?: string[]
    healthcheck?: unknown
    ports?: string[]
  }
  const compose = parse(text, { merge: true }) as { services: Record<string, Service> }
  const envExample = new Map(
    readFileSync(join(dir, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^\s*#?\s*[A-Z_]+=/.test(l))
      .map((l) => l.replace(/^\s*#\s*/, '').split('=') as [string, string]),
  )

  it('runs gateway, workers, RabbitMQ, PostgreSQL, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'gateway', 'grafana', 'postgres', 'prometheus', 'rabbitmq', 'worker'])
  })

  it('gives linesight services only linesight settings, each role its own', () => {
    for (const [name, role] of [['gateway', 'gateway'], ['worker', 'worker']] as const) {
      const env = compose.services[name]!.environment!
      expect(Object.keys(env).filter((k) => !settingsByEnv.has(k)), name).toEqual([])
      expect(env.LINESIGHT_ROLE).toBe(role)
      expect(compose.services[name]!.image).toBe(`\${LINESIGHT_IMAGE:-${IMAGE}:${VERSION}}`)
    }
  })

  it('configures linesight as Kubernetes does: the same secrets, frames inline in RabbitMQ messages', () => {
    const k8s = configMap(overlays.cpu).data
    for (const name of ['gateway', 'worker']) {
      const env = compose.services[name]!.environment!
      for (const secret of ['AMQP_URL', 'DATABASE_URL', 'LINESIGHT_ADMIN_TOKEN']) expect(env[secret], `${name} ${secret}`).toBeTruthy()
      expect(env.QUEUE_INLINE_MAX_BYTES).toBe(k8s.QUEUE_INLINE_MAX_BYTES)
      // no shared blob folder: every frame the gateway accepts must fit inline
      const maxFrame = Number(env.MAX_FRAME_BYTES ?? SETTINGS.maxFrameBytes.default)
      expect(Number(env.QUEUE_INLINE_MAX_BYTES)).toBeGreaterThanOrEqual(maxFrame)
    }
    expect(Number(k8s.QUEUE_INLINE_MAX_BYTES)).toBeGreaterThanOrEqual(Number(k8s.MAX_FRAME_BYTES ?? SETTINGS.maxFrameBytes.default))
  })

  it('takes every secret from .env, which git ignores, and documents each variable it reads in .env.example', () => {
    const interpolated = new Set([...text.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!))
    expect([...interpolated].filter((v) => !envExample.has(v))).toEqual([])
    for (const s of ['POSTGRES_PASSWORD', 'RABBITMQ_PASSWORD', 'LINESIGHT_ADMIN_TOKEN', 'GRAFANA_ADMIN_PASSWORD']) {
      expect(text).toMatch(new RegExp(`\\$\\{${s}:\\?`))
    }
    // a key that names a secret gets its value from .env, never a literal
    expect(text).not.toMatch(/^\s*[A-Z_]*(PASSWORD|PASS|TOKEN|SECRET):\s*(?!\$\{)\S/m)
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.env')
  })

  it('mounts monitoring files that exist, and health-checks every service', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!
        if (host.startsWith('.')) expect(existsSync(join(dir, host)), `${name}: ${host}`).toBe(true)
      }
      // gateway and worker are checked by the image's HEALTHCHECK
      if (!['gateway', 'worker'].includes(name)) expect(s.healthcheck, name).toBeDefined()
    }
  })
})

describe('images', () => {
  const runtimeEnv = (dockerfile: string) => {
    const text = readFileSync(join(ROOT, 'deploy/docker', dockerfile), 'utf8').replace(/\\\n/g, ' ')
    const runtime = text.slice(text.lastIndexOf('\nFROM '))
    return { runtime, env: [...runtime.matchAll(/^ENV (.+)$/gm)].flatMap((m) => [...m[1]!.matchAll(/([A-Z_]+)=/g)].map((x) => x[1]!)) }
  }

  /** Process environment the images set on purpose that is not a linesight setting. */
  const PROCESS_ENV = new Set(['MALLOC_ARENA_MAX'])

  it.each(['Dockerfile', 'Dockerfile.cuda'])('%s runs as non-root, health-checks /health on PORT and sets only linesight settings and the malloc arena limit', (file) => {
    const { runtime, env } = runtimeEnv(file)
    // besides linesight's settings, only the C library's allocator setting (docs/soak.md)
    expect(env.filter((e) => !settingsByEnv.has(e) && !PROCESS_ENV.has(e))).toEqual([])
    expect(env).toContain('MALLOC_ARENA_MAX')
    expect(runtime).toMatch(/^USER linesight$/m)
    expect(runtime).toMatch(/^HEALTHCHECK .*\/health/m)
    expect(HEALTH_PATHS.has('/health')).toBe(true)
    expect(runtime).toContain(`EXPOSE ${SETTINGS.port.default} ${SETTINGS.httpsPort.default}`)
    expect(runtime).toMatch(/CMD \["node", "--import", "tsx", "server\/main.ts"\]/)
  })

  it('builds the CPU image without the CUDA provider and the CUDA image with it', () => {
    expect(readFileSync(join(ROOT, 'deploy/docker/cpu.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m)
    expect(readFileSync(join(ROOT, 'deploy/docker/Dockerfile.cuda'), 'utf8')).toContain('--onnxruntime-node-install=cuda12')
    expect(runtimeEnv('Dockerfile.cuda').runtime).toMatch(/INFERENCE_EPS=cuda,cpu/)
  })

  it('keeps the build context to the sources: no node_modules, data, tests or secrets', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const p of ['**/node_modules', 'data', 'test', 'models/.cache', 'models/data', 'deploy']) expect(ignore).toContain(p)
    expect(ignore).toContain('!deploy/docker/cpu.npmrc')
  })
})
