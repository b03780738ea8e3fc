/**
 * JSON over HTTP, with failures as values: the views and the admin panel show `error.message` and
 * never catch. Responses are validated, so a server that changed shape shows as an error, not as
 * undefined. The one fetch wrapper of the browser: every view and store goes through it.
 */
import type { z } from 'zod'
import type { WireError } from '../../shared/protocol/messages/error.ts'

export type Fetched<T> = { ok: true; value: T } | { ok: false; error: WireError }

/** `token` is sent as a bearer token; `body`, when given, as JSON. */
export async function requestJson<S extends z.ZodType>(method: string, url: string, schema: S, token: string | null, body?: unknown, init?: RequestInit): Promise<Fetched<z.infer<S>>> {
  const headers: Record<string, string> = { accept: 'application/json', ...(init?.headers as Record<string, string> | undefined) }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(url, { ...init, method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  } catch (e) {
    return { ok: false, error: { code: 'network', message: `${url}: ${(e as Error).message}` } }
  }
  let parsedBody: unknown
  try {
    parsedBody = await res.json()
  } catch (e) {
    return { ok: false, error: { code: 'bad_response', message: `${url}: ${res.status} ${res.statusText}, body is not JSON (${(e as Error).message})` } }
  }
  if (!res.ok) {
    const err = (parsedBody as { error?: Partial<WireError> } | null)?.error
    return { ok: false, error: { code: err?.code ?? `http_${res.status}`, message: err?.message ?? `${url}: ${res.status} ${res.statusText}` } }
  }
  const parsed = schema.safeParse(parsedBody)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    return { ok: false, error: { code: 'bad_response', message: `${url}: unexpected response: ${issues}` } }
  }
  return { ok: true, value: parsed.data }
}

export function getJson<S extends z.ZodType>(url: string, schema: S, init?: RequestInit): Promise<Fetched<z.infer<S>>> {
  return requestJson('GET', url, schema, null, undefined, init)
}
