/**
 * Validates rendered manifests: Kubernetes objects against the API schemas (kubernetes-models'
 * `.validate()`), KEDA's custom resources against the fields of its CRDs that linesight uses
 * (kubernetes-models has no KEDA package; the schema below follows keda.sh/v1alpha1 and refuses
 * unknown keys, so a typo cannot pass).
 *
 * kubernetes-models checks types, required fields and formats but accepts unknown fields; the
 * manifest test adds its own checks for the fields linesight depends on.
 */
import { z } from 'zod'
import * as appsV1 from 'kubernetes-models/apps/v1'
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2'
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1'
import * as policyV1 from 'kubernetes-models/policy/v1'
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import * as coreV1 from 'kubernetes-models/v1'
import type { K8sObject } from './kustomize.ts'

type Validatable = new (data: never) => { validate(): void }

const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  'rbac.authorization.k8s.io/v1': rbacV1,
}

const Metadata = z.object({ name: z.string().min(1), namespace: z.string().min(1), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }).strict()
const Quantity = z.string().regex(/^\d+(\.\d+)?$/, 'a number in a string')

const RabbitTrigger = z
  .object({
    type: z.literal('rabbitmq'),
    metadata: z
      .object({
        protocol: z.enum(['auto', 'http', 'amqp']),
        mode: z.enum(['QueueLength', 'MessageRate']),
        value: Quantity,
        activationValue: Quantity.optional(),
        queueName: z.string().min(1),
        vhostName: z.string().min(1).optional(),
        excludeUnacknowledged: z.enum(['true', 'false']).optional(),
      })
      .strict(),
    authenticationRef: z.object({ name: z.string().min(1), kind: z.enum(['TriggerAuthentication', 'ClusterTriggerAuthentication']).optional() }).strict(),
  })
  .strict()

const ScaledObject = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('ScaledObject'),
    metadata: Metadata,
    spec: z
      .object({
        scaleTargetRef: z.object({ name: z.string().min(1), apiVersion: z.string().optional(), kind: z.string().optional() }).strict(),
        minReplicaCount: z.number().int().min(0).optional(),
        maxReplicaCount: z.number().int().min(1).optional(),
        pollingInterval: z.number().int().min(1).optional(),
        cooldownPeriod: z.number().int().min(0).optional(),
        fallback: z.object({ failureThreshold: z.number().int().min(1), replicas: z.number().int().min(1) }).strict().optional(),
        advanced: z
          .object({
            horizontalPodAutoscalerConfig: z.object({ behavior: z.record(z.string(), z.unknown()).optional() }).strict().optional(),
          })
          .strict()
          .optional(),
        triggers: z.array(RabbitTrigger).min(1),
      })
      .strict(),
  })
  .strict()

const TriggerAuthentication = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('TriggerAuthentication'),
    metadata: Metadata,
    spec: z.object({ secretTargetRef: z.array(z.object({ parameter: z.string().min(1), name: z.string().min(1), key: z.string().min(1) }).strict()).min(1) }).strict(),
  })
  .strict()

const KEDA: Record<string, z.ZodType> = { ScaledObject, TriggerAuthentication }

/** Problems with one object; empty when valid. */
export function validateObject(o: K8sObject): string[] {
  const where = `${o.kind}/${o.metadata?.name}`
  if (o.apiVersion === 'keda.sh/v1alpha1') {
    const schema = KEDA[o.kind]
    if (!schema) return [`${where}: no schema for keda.sh/v1alpha1 ${o.kind}`]
    const r = schema.safeParse(o)
    return r.success ? [] : r.error.issues.map((i) => `${where}: ${i.path.join('.')}: ${i.message}`)
  }
  const Model = MODELS[o.apiVersion]?.[o.kind] as Validatable | undefined
  if (!Model) return [`${where}: no schema for ${o.apiVersion} ${o.kind}`]
  try {
    new Model(o as never).validate()
    return []
  } catch (err) {
    return [`${where}: ${(err as Error).message}`]
  }
}
