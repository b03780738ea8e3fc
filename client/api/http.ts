/**
 * JSON over HTTP, with failures as values: the views show `error.message` and never catch.
 * Responses are validated, so a server that changed shape shows as an error, not as undefined.
 */
import type { z } from 'zod'
import type { WireError } from '../../shared/protocol/messages/error.ts'

export type Fetched<T> = { ok: true; value: T } | { ok: false; error: WireError }

export async function getJson<S extends z.ZodType>(url: string, schema: S, init?: RequestInit): Promise<Fetched<z.infer<S>>> {
  let res: Response
  try {
    res = await fetch(url, { ...init, headers: { accept: 'application/json', ...init?.headers } })
  } catch (e) {
    return { ok: false, error: { code: 'network', message: `${url}: ${(e as Error).message}` } }
  }
  let body: unknown
  try {
    body = await res.json()
  } catch (e) {
    return { ok: false, error: { code: 'bad_response', message: `${url}: ${res.status} ${res.statusText}, body is not JSON (${(e as Error).message})` } }
  }
  if (!res.ok) {
    const err = (body as { error?: Partial<WireError> } | null)?.error
    return { ok: false, error: { code: err?.code ?? `http_${res.status}`, message: err?.message ?? `${url}: ${res.status} ${res.statusText}` } }
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    return { ok: false, error: { code: 'bad_response', message: `${url}: unexpected response: ${issues}` } }
  }
  return { ok: true, value: parsed.data }
}
