/** The admin and status endpoints the panel and the status page call. */
import { z } from 'zod'
import { ScalingDocSchema, StatusHistorySchema, WhatIfResultSchema, type ScalingSettings, type WhatIfRequest } from '../../shared/domain/scaling.ts'
import { LineSettingsSchema, type LineSettings } from '../../shared/domain/line-settings.ts'
import { requestJson, type Fetched } from '../api/http.ts'

const LinesSchema = z.object({ lines: z.array(LineSettingsSchema) })
const ModelsSchema = z.object({ models: z.array(z.object({ name: z.string(), task: z.string(), classes: z.array(z.string()) })) })
export type ModelInfo = z.infer<typeof ModelsSchema>['models'][number]

const AuditSchema = z.object({
  items: z.array(z.object({ id: z.number(), at: z.number(), actor: z.string(), action: z.string(), target: z.string() })),
})
export type AuditItem = z.infer<typeof AuditSchema>['items'][number]

export const getScaling = (token: string) => requestJson('GET', '/api/v1/admin/scaling', ScalingDocSchema, token)
export const putScaling = (token: string, settings: ScalingSettings) => requestJson('PUT', '/api/v1/admin/scaling', ScalingDocSchema, token, settings)

export function postWhatIf(token: string, settings: ScalingSettings, range: { from?: number; to?: number }, trace?: WhatIfRequest['trace']) {
  return requestJson('POST', '/api/v1/admin/scaling/what-if', WhatIfResultSchema, token, { settings, ...range, ...(trace ? { trace } : {}) })
}

export async function getLines(token: string): Promise<Fetched<LineSettings[]>> {
  const r = await requestJson('GET', '/api/v1/lines', LinesSchema, token)
  return r.ok ? { ok: true, value: r.value.lines } : r
}

export const putLine = (token: string, s: LineSettings) => requestJson('PUT', `/api/v1/lines/${encodeURIComponent(s.line)}/settings`, LineSettingsSchema, token, s)

export async function getModels(token: string): Promise<Fetched<ModelInfo[]>> {
  const r = await requestJson('GET', '/api/v1/models', ModelsSchema, token)
  return r.ok ? { ok: true, value: r.value.models } : r
}

export async function getAudit(token: string, limit = 10): Promise<Fetched<AuditItem[]>> {
  const r = await requestJson('GET', `/api/v1/admin/audit?limit=${limit}`, AuditSchema, token)
  return r.ok ? { ok: true, value: r.value.items } : r
}

/** Open on a trusted network; with AUTH_REQUIRED the admin token of this tab (if any) is sent. */
export function getHistory(q: { from: number; to: number; line?: string }, token: string | null) {
  const p = new URLSearchParams({ from: String(q.from), to: String(q.to), ...(q.line ? { line: q.line } : {}) })
  return requestJson('GET', `/api/v1/status/history?${p}`, StatusHistorySchema, token)
}
