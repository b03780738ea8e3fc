/**
 * Model files and their manifests, kept in Cache Storage so a reload (or a station that starts
 * while the server is down) does not download them again. Model URLs carry the file's sha256
 * (`/models/<name>/<sha256>.onnx`) and never change content, so a cached copy is always current;
 * every copy, cached or fresh, is verified with SubtleCrypto before it is used, and a mismatch is
 * an error, never a model.
 *
 * Runs in the inference worker (Cache Storage and SubtleCrypto exist there in a secure context).
 */
import { parseManifest, type ModelManifest } from '../../shared/domain/manifest.ts'
import type { ModelRef } from '../../shared/protocol/messages/welcome.ts'
import type { WorkerReply } from './api.ts'

/** Model files and manifests; the name is versioned so a change of layout starts from empty. */
export const MODEL_CACHE = 'linesight-models-v1'
/** The onnxruntime-web WebAssembly binary (its URL carries Vite's content hash). */
export const RUNTIME_CACHE = 'linesight-runtime-v1'

export interface Loaded<T> {
  value: T
  fromCache: boolean
}

function fail<T>(code: string, message: string): WorkerReply<T> {
  return { ok: false, error: { code, message } }
}

async function openCache(name: string): Promise<Cache | null> {
  // Cache Storage exists only in a secure context; without it files are fetched every time
  if (typeof caches === 'undefined') return null
  return caches.open(name)
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

async function download(url: string, init?: RequestInit): Promise<WorkerReply<Response>> {
  let res: Response
  try {
    res = await fetch(url, init)
  } catch (e) {
    return fail('network', `${url}: ${(e as Error).message}`)
  }
  if (!res.ok) return fail(`http_${res.status}`, `${url}: ${res.status} ${res.statusText}`)
  return { ok: true, value: res }
}

/** An immutable file, from the cache or else the network, verified against `sha256` when given. */
export async function fetchImmutable(url: string, cacheName: string, sha256?: string): Promise<WorkerReply<Loaded<Uint8Array>>> {
  if (sha256 !== undefined && typeof crypto?.subtle === 'undefined') {
    return fail('insecure_context', 'model files cannot be verified without SubtleCrypto: open the station over https')
  }
  const cache = await openCache(cacheName)
  const hit = await cache?.match(url)
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer())
    if (sha256 === undefined || (await sha256Hex(bytes)) === sha256) return { ok: true, value: { value: bytes, fromCache: true } }
    // a damaged cache entry is thrown away and fetched again, not used
    await cache!.delete(url)
  }
  const res = await download(url)
  if (!res.ok) return res
  const bytes = new Uint8Array(await res.value.arrayBuffer())
  if (sha256 !== undefined) {
    const actual = await sha256Hex(bytes)
    if (actual !== sha256) return fail('sha256_mismatch', `${url}: sha256 is ${actual}, expected ${sha256}; the file was not used`)
  }
  await cache?.put(url, new Response(bytes, { headers: { 'content-type': res.value.headers.get('content-type') ?? 'application/octet-stream' } }))
  return { ok: true, value: { value: bytes, fromCache: false } }
}

/** The manifest URL is not immutable; its cache key carries the model's sha256 instead. */
const manifestKey = (ref: ModelRef) => `${ref.manifestUrl}?sha256=${ref.sha256}`

/** A model's manifest, checked to describe the very file the welcome message named. */
export async function fetchManifest(ref: ModelRef): Promise<WorkerReply<Loaded<ModelManifest>>> {
  const cache = await openCache(MODEL_CACHE)
  const hit = await cache?.match(manifestKey(ref))
  let json: unknown
  let fromCache = false
  if (hit) {
    json = await hit.json()
    fromCache = true
  } else {
    const res = await download(ref.manifestUrl, { cache: 'no-cache' })
    if (!res.ok) return res
    try {
      json = await res.value.json()
    } catch (e) {
      return fail('bad_manifest', `${ref.manifestUrl}: not JSON (${(e as Error).message})`)
    }
  }
  let manifest: ModelManifest
  try {
    manifest = parseManifest(json, ref.manifestUrl)
  } catch (e) {
    if (fromCache) await cache!.delete(manifestKey(ref))
    return fail('bad_manifest', (e as Error).message)
  }
  if (manifest.sha256 !== ref.sha256) {
    // the server swapped the model between its welcome and this request: the next welcome has the new one
    return fail('manifest_changed', `${ref.manifestUrl} describes sha256 ${manifest.sha256}, the station was told ${ref.sha256}`)
  }
  if (!fromCache) await cache?.put(manifestKey(ref), new Response(JSON.stringify(manifest), { headers: { 'content-type': 'application/json' } }))
  return { ok: true, value: { value: manifest, fromCache } }
}

/**
 * Removes cached versions of these models other than the current ones, and runtime binaries other
 * than the current one, so a tablet that lived through many model updates does not fill up.
 */
export async function pruneCaches(current: readonly ModelRef[], runtimeUrl: string): Promise<number> {
  let removed = 0
  const keep = new Set(current.flatMap((r) => [new URL(r.url, self.location.href).href, new URL(manifestKey(r), self.location.href).href]))
  const models = await openCache(MODEL_CACHE)
  for (const req of (await models?.keys()) ?? []) {
    const sameModel = current.some((r) => req.url.startsWith(new URL(r.manifestUrl, self.location.href).href.replace(/manifest\.json$/, '')))
    if (sameModel && !keep.has(req.url) && (await models!.delete(req))) removed++
  }
  const runtime = await openCache(RUNTIME_CACHE)
  const runtimeHref = new URL(runtimeUrl, self.location.href).href
  for (const req of (await runtime?.keys()) ?? []) if (req.url !== runtimeHref && (await runtime!.delete(req))) removed++
  return removed
}
