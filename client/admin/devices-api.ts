/** Device pairing endpoints of the admin panel (server/api/devices.ts). */
import { z } from 'zod'
import type { Fetched } from '../api/http.ts'
import { requestJson } from '../api/http.ts'

const DeviceSchema = z.object({
  id: z.string(),
  kind: z.enum(['station', 'kiosk']),
  name: z.string(),
  lines: z.array(z.string()),
  station: z.string().optional(),
  status: z.enum(['pending', 'expired', 'paired', 'revoked']),
  expiresAt: z.number(),
  lastSeenAt: z.number().optional(),
  address: z.string().optional(),
  userAgent: z.string().optional(),
  link: z.string(),
})
export type Device = z.infer<typeof DeviceSchema>

const CreatedSchema = z.object({ id: z.string(), kind: z.string(), pairingCode: z.string(), pairingUrl: z.string(), expiresAt: z.number(), device: DeviceSchema })
export type CreatedDevice = z.infer<typeof CreatedSchema>

export type NewDevice = { kind: 'station'; line: string; station: string } | { kind: 'kiosk'; lines: string[] }

export async function listDevices(token: string): Promise<Fetched<Device[]>> {
  const r = await requestJson('GET', '/api/v1/admin/devices', z.object({ devices: z.array(DeviceSchema) }), token)
  return r.ok ? { ok: true, value: r.value.devices } : r
}

export const addDevice = (token: string, d: NewDevice) => requestJson('POST', '/api/v1/admin/devices', CreatedSchema, token, d)
export const renameDevice = (token: string, id: string, name: string) => requestJson('PATCH', `/api/v1/admin/devices/${encodeURIComponent(id)}`, DeviceSchema, token, { name })

/** 204 has no body: answered here rather than through requestJson. */
export async function revokeDevice(token: string, id: string): Promise<Fetched<null>> {
  try {
    const res = await fetch(`/api/v1/admin/devices/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    if (res.status === 204) return { ok: true, value: null }
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null
    return { ok: false, error: { code: body?.error?.code ?? `http_${res.status}`, message: body?.error?.message ?? `${res.status} ${res.statusText}` } }
  } catch (e) {
    return { ok: false, error: { code: 'network', message: (e as Error).message } }
  }
}
