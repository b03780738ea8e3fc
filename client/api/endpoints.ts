/** The server's HTTP API as the client uses it (see the gateway for the routes). */
import { z } from 'zod'
import { PartCountsSchema, type PartCounts } from '../../shared/domain/part-counts.ts'
import { InspectionResultSchema } from '../../shared/domain/result.ts'
import { LineSettingsSchema } from '../../shared/domain/line-settings.ts'
import { getJson, type Fetched } from './http.ts'

/** Only what the demo source needs; the ground-truth boxes that come along are not used here. */
export const SampleSchema = z.object({
  file: z.string(),
  url: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
})
export type Sample = z.infer<typeof SampleSchema>

const SamplesSchema = z.object({ samples: z.array(SampleSchema) })
const LinesSchema = z.object({ lines: z.array(LineSettingsSchema) })
const ResultsPageSchema = z.object({ items: z.array(InspectionResultSchema), nextCursor: z.string().nullable().optional() })

export async function fetchSamples(): Promise<Fetched<Sample[]>> {
  const r = await getJson('/api/v1/samples', SamplesSchema)
  return r.ok ? { ok: true, value: r.value.samples } : r
}

export async function fetchLines(): Promise<Fetched<z.infer<typeof LinesSchema>['lines']>> {
  const r = await getJson('/api/v1/lines', LinesSchema)
  return r.ok ? { ok: true, value: r.value.lines } : r
}

/** The latest failures of a line, newest first, so a kiosk that starts mid-shift is not blank. */
export async function fetchRecentFailures(line: string, limit: number): Promise<Fetched<z.infer<typeof ResultsPageSchema>['items']>> {
  const q = new URLSearchParams({ line, verdict: 'fail', limit: String(limit) })
  const r = await getJson(`/api/v1/results?${q}`, ResultsPageSchema)
  return r.ok ? { ok: true, value: r.value.items } : r
}

/** Parts inspected, failed and yield of a line: this shift and each of the last hours. */
export function fetchPartCounts(line: string, hours: number): Promise<Fetched<PartCounts>> {
  return getJson(`/api/v1/lines/${encodeURIComponent(line)}/part-counts?hours=${hours}`, PartCountsSchema)
}

export function thumbnailUrl(frameId: string): string {
  return `/api/v1/results/${encodeURIComponent(frameId)}/image?variant=thumbnail`
}
