/**
 * Renders deploy/k8s kustomizations without kubectl, for the manifest tests. It supports what
 * linesight's kustomizations use and refuses anything else, so a new kustomize feature cannot be
 * silently ignored: `resources` (files and folders), `images`, and strategic-merge `patches`
 * given by `path`. The test compares its output with `kubectl kustomize` where kubectl exists.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

export type K8sObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
} & Record<string, unknown>

interface Kustomization {
  apiVersion?: string
  kind?: string
  resources?: string[]
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[]
  patches?: { path: string }[]
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'images', 'patches'])

export function readYamlObjects(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
  return docs.map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`)
    return d.toJS() as K8sObject | null
  }).filter((o): o is K8sObject => o !== null)
}

export const objectKey = (o: Pick<K8sObject, 'kind' | 'metadata'>) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`

type Json = unknown

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Strategic merge as Kubernetes does it for the fields these manifests patch: maps merge, lists
 * whose items all have a `name` merge by name (containers, env, ports, volumes), other lists are
 * replaced (tolerations, args).
 */
export function strategicMerge(base: Json, patch: Json): Json {
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, Json> = { ...base }
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? strategicMerge(base[k], v) : v
    return out
  }
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (l: Json[]) => l.length > 0 && l.every((i) => isObject(i) && typeof i.name === 'string')
    if (!named(base) || !named(patch)) return patch
    const out = base.map((i) => i as Record<string, Json>)
    for (const p of patch as Record<string, Json>[]) {
      const at = out.findIndex((i) => i.name === p.name)
      if (at >= 0) out[at] = strategicMerge(out[at], p) as Record<string, Json>
      else out.push(p)
    }
    return out
  }
  return patch
}

function podContainers(o: K8sObject): Record<string, Json>[] {
  const spec = (o.spec as { template?: { spec?: { containers?: Record<string, Json>[]; initContainers?: Record<string, Json>[] } } } | undefined)?.template?.spec
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]
}

/** Splits `repo/name:tag` (or `@digest`) into name and the rest. */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf('@')
  if (at >= 0) return { name: image.slice(0, at), digest: image.slice(at + 1) }
  const colon = image.lastIndexOf(':')
  return colon > image.lastIndexOf('/') ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image }
}

function applyImages(objects: K8sObject[], images: NonNullable<Kustomization['images']>): void {
  for (const o of objects) {
    for (const c of podContainers(o)) {
      const current = splitImage(String(c.image))
      const rule = images.find((i) => i.name === current.name)
      if (!rule) continue
      const name = rule.newName ?? current.name
      if (rule.digest) c.image = `${name}@${rule.digest}`
      else if (rule.newTag ?? current.tag) c.image = `${name}:${rule.newTag ?? current.tag}`
      else c.image = name
    }
  }
}

/** The objects `kubectl kustomize <dir>` would print, in resource order. */
export function renderKustomization(dir: string): K8sObject[] {
  const k = readYamlObjects(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key))
  if (unsupported.length) throw new Error(`${dir}/kustomization.yaml uses ${unsupported.join(', ')}, which deploy/k8s/testing/kustomize.ts does not render`)
  let objects: K8sObject[] = []
  for (const r of k.resources ?? []) {
    const path = join(dir, r)
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlObjects(path)))
  }
  for (const p of k.patches ?? []) {
    for (const patch of readYamlObjects(join(dir, p.path))) {
      const key = objectKey({ kind: patch.kind, metadata: { ...patch.metadata, namespace: patch.metadata.namespace ?? '' } })
      const at = objects.findIndex((o) => objectKey({ kind: o.kind, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? '' } }) === key)
      if (at < 0) throw new Error(`${join(dir, p.path)} patches ${key}, which no resource defines`)
      objects[at] = strategicMerge(objects[at], patch) as K8sObject
    }
  }
  objects = structuredClone(objects)
  if (k.images) applyImages(objects, k.images)
  return objects
}

