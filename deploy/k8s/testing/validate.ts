/**
 * Validates rendered manifests against the API schemas with kubernetes-models' `.validate()`:
 * Kubernetes' own objects, KEDA's custom resources (@kubernetes-models/keda, generated from KEDA's
 * CRDs) and the Prometheus operator's (@kubernetes-models/prometheus-operator: ServiceMonitor,
 * PodMonitor, PrometheusRule). No cluster runs here: schemas are all that checks the manifests.
 *
 * kubernetes-models checks types, required fields and formats but accepts unknown fields; the
 * manifest test adds its own checks for the fields linesight depends on.
 */
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1'
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
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
  'keda.sh/v1alpha1': kedaV1alpha1,
  'monitoring.coreos.com/v1': monitoringV1,
}

/** Problems with one object; empty when valid. */
export function validateObject(o: K8sObject): string[] {
  const where = `${o.kind}/${o.metadata?.name}`
  const Model = MODELS[o.apiVersion]?.[o.kind] as Validatable | undefined
  if (!Model) return [`${where}: no schema for ${o.apiVersion} ${o.kind}`]
  try {
    new Model(o as never).validate()
    return []
  } catch (err) {
    return [`${where}: ${(err as Error).message}`]
  }
}
