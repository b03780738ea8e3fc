/**
 * Reading a station page and the server's record of it in end-to-end tests: the backend the
 * station measured, what waits in its outbox, the frames it inspected (from its IndexedDB
 * journal), and every result the server recorded for it.
 */
import type { Page } from 'playwright-core'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { authHeaders } from './server.ts'

export interface Candidate {
  ep: string
  ok: boolean
  prefilterMs: number | null
  detectorMs: number | null
}

/** Waits for the station's local backend; `final`: also for the measured choice to be in use. */
export async function waitBackend(page: Page, o: { final: boolean; timeoutMs: number }): Promise<void> {
  const selector = o.final ? '[data-testid=backend][data-state=ready][data-measuring=false]' : '[data-testid=backend][data-state=ready]'
  await page.locator(selector).waitFor({ timeout: o.timeoutMs })
}

export async function backendEp(page: Page): Promise<string> {
  return (await page.locator('[data-testid=backend]').getAttribute('data-ep')) ?? ''
}

export async function candidates(page: Page): Promise<Candidate[]> {
  return page.locator('[data-testid^=candidate-]').evaluateAll((rows) =>
    rows.map((r) => {
      const d = (r as HTMLElement).dataset
      const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v))
      return { ep: (d.testid ?? '').replace('candidate-', ''), ok: d.ok === 'true', prefilterMs: num(d.prefilterMs), detectorMs: num(d.detectorMs) }
    }),
  )
}

export async function outboxPending(page: Page): Promise<number> {
  return Number(await page.locator('[data-testid=outbox]').getAttribute('data-pending'))
}

export interface Inspected {
  frameId: string
  where: 'server' | 'browser'
}

/** The station's journal of inspected frames, read straight from its IndexedDB. */
export function inspectedFrames(page: Page, line: string, station: string): Promise<Inspected[]> {
  return page.evaluate(
    ([l, s]) =>
      new Promise<Inspected[]>((resolve, reject) => {
        const open = indexedDB.open('linesight-station')
        open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'))
        open.onsuccess = () => {
          const req = open.result.transaction('inspected').objectStore('inspected').getAll()
          req.onerror = () => reject(req.error ?? new Error('getAll failed'))
          req.onsuccess = () => {
            const all = req.result as { frameId: string; line: string; station: string; where: 'server' | 'browser' }[]
            open.result.close()
            resolve(all.filter((e) => e.line === l && e.station === s).map((e) => ({ frameId: e.frameId, where: e.where })))
          }
        }
      }),
    [line, station] as const,
  )
}

/** Every result the server recorded for a station, following the cursor. */
export async function recordedResults(baseUrl: string, line: string, station: string): Promise<InspectionResult[]> {
  const out: InspectionResult[] = []
  let cursor: string | null | undefined
  do {
    const q = new URLSearchParams({ line, station, limit: '1000', ...(cursor ? { cursor } : {}) })
    const res = await fetch(`${baseUrl}/api/v1/results?${q}`, { headers: authHeaders(baseUrl) })
    if (!res.ok) throw new Error(`GET /api/v1/results: ${res.status} ${await res.text()}`)
    const page = (await res.json()) as { items: InspectionResult[]; nextCursor?: string | null }
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

/** Resolves once the page's service worker is active (the app shell is precached). */
export async function serviceWorkerReady(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
}
