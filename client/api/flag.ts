/**
 * "This verdict is wrong", from a station or kiosk: puts the frame in the review queue
 * (`POST /api/v1/results/:frameId/flag`). Failures come back as values for the button to show.
 */
import type { Fetched } from './http.ts'

export async function flagVerdict(frameId: string, opts: { note?: string; token?: string | null } = {}): Promise<Fetched<true>> {
  const url = `/api/v1/results/${encodeURIComponent(frameId)}/flag`
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let res: Response
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(opts.note ? { note: opts.note } : {}) })
  } catch (e) {
    return { ok: false, error: { code: 'network', message: `${url}: ${(e as Error).message}` } }
  }
  if (res.ok) return { ok: true, value: true }
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null
  return { ok: false, error: { code: body?.error?.code ?? `http_${res.status}`, message: body?.error?.message ?? `${url}: ${res.status}` } }
}
