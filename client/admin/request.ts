/**
 * JSON to and from the admin API with the admin's token, failures as values (like
 * client/api/http.ts, which only reads): the panel shows `error.message` and never catches.
 */
import type { z } from 'zod'
import type { Fetched } from '../api/http.ts'

export async function requestJson<S extends z.ZodType>(method: string, url: string, schema: S, token: string | null, body?: unknown): Promise<Fetched<z.infer<S>>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
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
    const err = (parsedBody as { error?: { code?: string; message?: string } } | null)?.error
    return { ok: false, error: { code: err?.code ?? `http_${res.status}`, message: err?.message ?? `${url}: ${res.status} ${res.statusText}` } }
  }
  const parsed = schema.safeParse(parsedBody)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    return { ok: false, error: { code: 'bad_response', message: `${url}: unexpected response: ${issues}` } }
  }
  return { ok: true, value: parsed.data }
}
