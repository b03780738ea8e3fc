/**
 * The Kubernetes actuator (@kubernetes/client-node 1.x). Two modes (SCALING_K8S_TARGET):
 *  - `deployment`: PATCH the worker Deployment's `scale` subresource
 *    (`/apis/apps/v1/namespaces/<ns>/deployments/<name>/scale`, merge patch
 *    `{"spec":{"replicas":n}}`): this process is the autoscaler;
 *  - `scaledobject`: PATCH the KEDA ScaledObject
 *    (`/apis/keda.sh/v1alpha1/namespaces/<ns>/scaledobjects/<name>`, merge patch
 *    `{"spec":{"minReplicaCount":n,"maxReplicaCount":max}}`): KEDA keeps scaling on the queue
 *    length, and this policy (with its forecast) raises the floor it scales from.
 * Both read the Deployment for ready replicas. Merge patch, because a ScaledObject is a custom
 * resource (no strategic merge) and one content type for both keeps the RBAC and the test simple.
 * Credentials: SCALING_K8S_KUBECONFIG, else the pod's service account in a cluster, else
 * ~/.kube/config. RBAC needed: get/patch on deployments/scale, get on deployments, get/patch on
 * scaledobjects.keda.sh, in the namespace.
 *
 * The client library is loaded on first use: a process that does not scale on Kubernetes never
 * pays for it.
 */
import { readFileSync } from 'node:fs'
import type { KubeConfig } from '@kubernetes/client-node'
import { ScalingError, type Actuator, type ActuatorStatus, type ScalingErrorCode } from './types.ts'

export interface KubernetesOptions {
  namespace?: string | undefined
  target: 'deployment' | 'scaledobject'
  deployment: string
  scaledObject: string
  /** A kubeconfig file; unset: in-cluster, else the default file. */
  kubeconfigFile?: string | undefined
  /** A ready KubeConfig (tests point it at a stand-in API server). */
  kubeConfig?: KubeConfig
}

const KEDA = { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' } as const
const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

type Client = typeof import('@kubernetes/client-node')

interface Apis {
  client: Client
  apps: import('@kubernetes/client-node').AppsV1Api
  custom: import('@kubernetes/client-node').CustomObjectsApi
  namespace: string
}

export class KubernetesActuator implements Actuator {
  readonly kind = 'kubernetes' as const
  #apis: Promise<Apis> | undefined

  constructor(private readonly opts: KubernetesOptions) {}

  async status(): Promise<ActuatorStatus> {
    const { apps, custom, namespace } = await this.#connect()
    const deployment = await call('read the worker Deployment', () => apps.readNamespacedDeployment({ name: this.opts.deployment, namespace }))
    const ready = deployment.status?.readyReplicas ?? 0
    if (this.opts.target === 'deployment') return { current: deployment.spec?.replicas ?? 0, ready }
    const so = (await call('read the KEDA ScaledObject', () =>
      custom.getNamespacedCustomObject({ ...KEDA, namespace, name: this.opts.scaledObject }),
    )) as { spec?: { minReplicaCount?: number } }
    return { current: so.spec?.minReplicaCount ?? 0, ready }
  }

  async scale(n: number, bounds: { min: number; max: number }): Promise<void> {
    const { client, apps, custom, namespace } = await this.#connect()
    const merge = client.setHeaderOptions('Content-Type', client.PatchStrategy.MergePatch)
    if (this.opts.target === 'deployment') {
      await call('scale the worker Deployment', () => apps.patchNamespacedDeploymentScale({ name: this.opts.deployment, namespace, body: { spec: { replicas: n } } }, merge))
      return
    }
    await call('set the KEDA ScaledObject bounds', () =>
      custom.patchNamespacedCustomObject({ ...KEDA, namespace, name: this.opts.scaledObject, body: { spec: { minReplicaCount: n, maxReplicaCount: Math.max(n, bounds.max) } } }, merge),
    )
  }

  async close(): Promise<void> {}

  #connect(): Promise<Apis> {
    this.#apis ??= (async () => {
      const client = await import('@kubernetes/client-node')
      const kc = this.opts.kubeConfig ?? load(client, this.opts.kubeconfigFile)
      const namespace = this.opts.namespace ?? ownNamespace() ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default'
      return { client, apps: kc.makeApiClient(client.AppsV1Api), custom: kc.makeApiClient(client.CustomObjectsApi), namespace }
    })()
    // a failed start (no credentials yet) is tried again on the next tick
    this.#apis.catch(() => (this.#apis = undefined))
    return this.#apis
  }
}

function load(client: Client, file: string | undefined): KubeConfig {
  const kc = new client.KubeConfig()
  if (file) kc.loadFromFile(file)
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster()
  else kc.loadFromDefault()
  return kc
}

function ownNamespace(): string | undefined {
  try {
    return readFileSync(SA_NAMESPACE, 'utf8').trim() || undefined
  } catch {
    return undefined // not in a pod: the kubeconfig's context or `default` decides
  }
}

/** Runs one API call; its failure becomes a ScalingError whose code says what to fix. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const status = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined
    const code: ScalingErrorCode = status === 401 || status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 422 || status === 400 ? 'invalid' : 'unavailable'
    const hint = code === 'forbidden' ? ' (check the autoscaler\'s ServiceAccount and Role, deploy/k8s)' : ''
    throw new ScalingError(code, `could not ${what}: ${status ? `HTTP ${status}` : (err as Error)?.message ?? String(err)}${hint}`, { cause: err })
  }
}
