import type { PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Reply } from './types.ts'

/** RFC 4180 field; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
export function csvField(v: string | number | null | undefined): string {
  let s = v === undefined || v === null ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export const RESULT_CSV_HEADER = ['frameId', 'line', 'station', 'capturedAt', 'verdict', 'model', 'modelVersion', 'inferredAt', 'ep', 'detections', 'classes', 'maxScore', 'jobId', 'error']

export function resultCsvRow(r: InspectionResult): string {
  const classes = [...new Set(r.detections.map((d) => d.class))].join(' ')
  const maxScore = r.detections.reduce((m, d) => Math.max(m, d.score), 0)
  return [
    r.frameId,
    r.line,
    r.station,
    new Date(r.capturedAt).toISOString(),
    r.verdict,
    r.model.name,
    r.model.version,
    r.inferredAt,
    r.ep,
    r.detections.length,
    classes,
    r.detections.length ? maxScore.toFixed(4) : '',
    r.jobId ?? '',
    r.error ? `${r.error.code}: ${r.error.message}` : '',
  ]
    .map(csvField)
    .join(',')
}

export function resultsCsv(results: readonly InspectionResult[]): string {
  return [RESULT_CSV_HEADER.join(','), ...results.map(resultCsvRow)].join('\r\n') + '\r\n'
}

export const PART_CSV_HEADER = ['partId', 'line', 'station', 'verdict', 'openedAt', 'closedAt', 'closedBy', 'idSource', 'frames', 'defects', 'defectClasses']

export function partsCsv(parts: readonly PartRecord[]): string {
  const rows = parts.map((p) =>
    [
      p.partId,
      p.line,
      p.station,
      p.verdict ?? '',
      new Date(p.openedAt).toISOString(),
      p.closedAt === null ? '' : new Date(p.closedAt).toISOString(),
      p.closedBy ?? '',
      p.idSource ?? '',
      p.frames.length,
      p.defects.length,
      [...new Set(p.defects.map((d) => d.class))].join(' '),
    ]
      .map(csvField)
      .join(','),
  )
  return [PART_CSV_HEADER.join(','), ...rows].join('\r\n') + '\r\n'
}

/** At most this many pages of 1000 rows go into one CSV reply, so one request cannot run forever. */
export const CSV_MAX_PAGES = 100

/**
 * A CSV reply of every page of a listing from `cursor` on (at most CSV_MAX_PAGES pages of 1000):
 * `query` fetches one page, `toCsv` renders the rows with their header.
 */
export async function csvExport<T>(
  query: (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; nextCursor?: string }>,
  cursor: string | undefined,
  toCsv: (items: readonly T[]) => string,
  filename: string,
): Promise<Reply> {
  const items: T[] = []
  for (let pages = 0; pages < CSV_MAX_PAGES; pages++) {
    const page = await query({ limit: 1000, ...(cursor ? { cursor } : {}) })
    items.push(...page.items)
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` },
    body: toCsv(items),
  }
}
