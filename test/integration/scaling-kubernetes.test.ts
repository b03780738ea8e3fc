/**
 * The Kubernetes actuator against a stand-in for the API server: a small HTTP server that
 * records every request and answers the way kube-apiserver does (a Scale, a Deployment, a
 * ScaledObject, or a Status error). No cluster runs here; what is checked is what goes over the
 * wire: method, path, content type and body.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KubernetesActuator } from '../../server/scaling/actuators/kubernetes.ts'
import { ScalingError } from '../../server/scaling/actuators/types.ts'

interface Recorded {
  method: string
  path: string
  contentType: string | undefined
  authorization: string | undefined
  body: unknown
}

const NS = 'plant-a'

describe('Kubernetes actuator (against a stand-in API server)', () => {
  let server: Server
  let base: string
  const requests: Recorded[] = []
  let replicas = 2
  let ready = 1
  let minReplicaCount = 1
  let refuse: number | undefined

  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = ''
      req.on('data', (c: Buffer) => (data += c.toString('utf8')))
      req.on('end', () => resolve(data))
    })

  beforeAll(async () => {
    server = createServer((req, res) => {
      void read(req).then((text) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname
        requests.push({ method: req.method ?? '', path, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined })
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(JSON.stringify(body))
        }
        if (refuse) return send(refuse, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: refuse, message: 'deployments.apps "linesight-worker" is forbidden' })
        const deployment = `/apis/apps/v1/namespaces/${NS}/deployments/linesight-worker`
        const scaledObject = `/apis/keda.sh/v1alpha1/namespaces/${NS}/scaledobjects/linesight-worker`
        if (path === `${deployment}/scale` && req.method === 'PATCH') {
          replicas = (JSON.parse(text) as { spec: { replicas: number } }).spec.replicas
          return send(200, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'linesight-worker', namespace: NS }, spec: { replicas }, status: { replicas: ready } })
        }
        if (path === deployment && req.method === 'GET') {
          return send(200, { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'linesight-worker', namespace: NS }, spec: { replicas }, status: { replicas, readyReplicas: ready } })
        }
        if (path === scaledObject && req.method === 'PATCH') {
          const { spec } = JSON.parse(text) as { spec: { minReplicaCount: number } }
          minReplicaCount = spec.minReplicaCount
          return send(200, { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'linesight-worker', namespace: NS }, spec })
        }
        if (path === scaledObject && req.method === 'GET') {
          return send(200, { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'linesight-worker', namespace: NS }, spec: { minReplicaCount, maxReplicaCount: 10 } })
        }
        send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` })
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  beforeEach(() => {
    requests.length = 0
    refuse = undefined
  })

  const kubeConfig = () => {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'stand-in', server: base, skipTLSVerify: true }],
      users: [{ name: 'autoscaler', token: 'sa-token' }],
      contexts: [{ name: 'test', cluster: 'stand-in', user: 'autoscaler', namespace: NS }],
      currentContext: 'test',
    })
    return kc
  }

  const actuator = (target: 'deployment' | 'scaledobject', namespace?: string) =>
    new KubernetesActuator({ target, deployment: 'linesight-worker', scaledObject: 'linesight-worker', kubeConfig: kubeConfig(), namespace })

  it('scales the worker Deployment with a merge patch of its scale subresource', async () => {
    await actuator('deployment').scale(5, { min: 1, max: 8 })
    expect(requests).toEqual([
      {
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${NS}/deployments/linesight-worker/scale`,
        contentType: 'application/merge-patch+json',
        authorization: 'Bearer sa-token',
        body: { spec: { replicas: 5 } },
      },
    ])
  })

  it('reads spec.replicas as the current count and readyReplicas as the serving ones', async () => {
    replicas = 4
    ready = 3
    expect(await actuator('deployment').status()).toEqual({ current: 4, ready: 3 })
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /apis/apps/v1/namespaces/${NS}/deployments/linesight-worker`])
  })

  it('sets the KEDA ScaledObject bounds: the policy floor as minReplicaCount, the max as maxReplicaCount', async () => {
    await actuator('scaledobject').scale(3, { min: 1, max: 12 })
    expect(requests).toEqual([
      {
        method: 'PATCH',
        path: `/apis/keda.sh/v1alpha1/namespaces/${NS}/scaledobjects/linesight-worker`,
        contentType: 'application/merge-patch+json',
        authorization: 'Bearer sa-token',
        body: { spec: { minReplicaCount: 3, maxReplicaCount: 12 } },
      },
    ])
    ready = 2
    expect(await actuator('scaledobject').status()).toEqual({ current: 3, ready: 2 })
  })

  it('uses the configured namespace over the kubeconfig context', async () => {
    await expect(actuator('deployment', 'other').scale(2, { min: 1, max: 4 })).rejects.toMatchObject({ code: 'not_found' })
    expect(requests[0]!.path).toBe('/apis/apps/v1/namespaces/other/deployments/linesight-worker/scale')
  })

  it('turns a refusal by RBAC into a forbidden error that names what to fix', async () => {
    refuse = 403
    const err = await actuator('deployment').scale(2, { min: 1, max: 4 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ScalingError)
    expect(err).toMatchObject({ code: 'forbidden' })
    expect((err as Error).message).toMatch(/HTTP 403.*ServiceAccount/)
  })
})
