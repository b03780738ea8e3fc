/**
 * Issue 17's two browser surfaces against a real linesight process in Chromium:
 *  - the admin page's candidate panel (client/admin/CandidatePanel.vue): put a candidate on a line,
 *    read its comparison (the figures the server computes, shown as the panel shows them),
 *    promote it, roll back — each step checked against the server's own state;
 *  - the kiosk's "This verdict is wrong" (client/components/FlagButton.vue on the newest failure
 *    card): one click puts that frame in the review queue with the reason `flag`
 *    (GET /api/v1/review).
 * The candidate is the default detector's file under another name (the class check needs the
 * line model's classes). Any console or page error fails the test.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { ReviewQueueItem } from '../../shared/domain/review.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, uniqueId } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = chromiumMissing()
if (missing) console.warn(`candidate-panel-flag e2e skipped: ${missing}`)

const samples = loadSamples()

interface Figures { classes: { class: string; precision: number | null; recall: number | null; ap50: number | null }[]; map50: number | null }
interface Summary {
  model: string
  previousModel: string | null
  candidate: { model: string; share: number } | null
  agreement?: { frames: number; byClass: { class: string; agreement: number | null }[] }
  reviewed?: { frames: number; current: Figures; candidate: Figures }
}
/** The panel's own rounding (CandidatePanel.vue `pct`). */
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 1000) / 10}%`)

describe.skipIf(missing !== null)('candidate panel and kiosk flag in Chromium', () => {
  let tmp: string
  let models: string
  let server: RunningServer
  let ctx: BrowserContext
  const problems: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('candidate')
    models = join(tmp, 'models')
    for (const dir of ['detector', 'prefilter', 'samples']) await cp(join(ROOT, 'models', dir), join(models, dir), { recursive: true })
    await mkdir(join(models, 'candidate'))
    await cp(join(ROOT, 'models/detector/detector.onnx'), join(models, 'candidate/detector.onnx'))
    const manifest = JSON.parse(await readFile(join(ROOT, 'models/detector/manifest.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(models, 'candidate/manifest.json'), JSON.stringify({ ...manifest, name: 'candidate', version: '0.2.0' }))
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false', LINESIGHT_MODELS_DIR: models, INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1' } })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile') })
  }, 300_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  const json = (method: string, path: string, body?: unknown) =>
    server.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
  const detect = async (line: string, i: number) => {
    const res = await server.admin(`/api/v1/detect?line=${line}&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(samples[i % samples.length]!.bytes) })
    expect(res.status).toBe(200)
    return (await res.json()) as InspectionResult
  }
  const summaryOf = async (line: string) => (await (await json('GET', `/api/v1/admin/lines/${line}/candidate`)).json()) as Summary
  const settingsOf = async (line: string) => (await (await json('GET', `/api/v1/lines/${line}/settings`)).json()) as LineSettings

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${server.url}/admin`)
    await page.fill('[data-testid=admin-token]', server.adminToken)
    await page.click('[data-testid=sign-in]')
    await page.locator('[data-testid=candidate-panel] [data-testid=candidate-line]').waitFor({ timeout: 30_000 })
  }

  it('puts a candidate on a line, shows its comparison, promotes it and rolls back, as the server has it', async () => {
    const line = uniqueId('CP')
    expect((await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'detector' })).status).toBe(200)
    const page = await ctx.newPage()
    collectProblems(page, 'admin', problems)
    await signIn(page)
    const panel = page.locator('[data-testid=candidate-panel]')
    await panel.locator('[data-testid=candidate-line]').fill(line)
    await panel.getByRole('button', { name: 'Show' }).click()
    await panel.getByText('Current model: detector').waitFor({ timeout: 15_000 })

    // put the candidate on the whole share of the line's frames
    await panel.locator('[data-testid=candidate-model]').fill('candidate')
    await panel.locator('input[type=number]').fill('1')
    await panel.locator('form', { has: page.locator('[data-testid=candidate-model]') }).locator('button[type=submit]').click()
    await panel.locator('[data-testid=candidate-promote]').waitFor({ timeout: 15_000 })
    expect((await settingsOf(line)).candidate).toEqual({ model: 'candidate', share: 1 })

    // frames one at a time (the engine idle between them, so the shadow runs), one of them reviewed
    const results: InspectionResult[] = []
    for (let i = 0; i < samples.length; i++) results.push(await detect(line, i))
    await waitFor(async () => ((await summaryOf(line)).agreement?.frames ?? 0) > 0, { timeoutMs: 60_000, what: 'candidate detections for the line' })
    const reviewed = results.find((r) => r.detections.length > 0)!
    const sample = samples[results.indexOf(reviewed)]!
    const review = await json('POST', `/api/v1/results/${reviewed.frameId}/review`, { verdict: sample.boxes.some((b) => b.class !== 'part') ? 'fail' : 'pass', detections: sample.boxes })
    expect(review.status).toBe(201)
    await waitFor(async () => ((await summaryOf(line)).reviewed?.frames ?? 0) > 0, { timeoutMs: 30_000, what: 'the review to count in the comparison' })
    // the server may still add shadow frames: read it, show it, and compare while both say the same count
    const shown = await waitFor(async () => {
      const want = await summaryOf(line)
      await panel.getByRole('button', { name: 'Show' }).click()
      await panel.getByText(`(${want.agreement!.frames} compared)`).waitFor({ timeout: 5_000 }).catch(() => undefined)
      const text = await panel.innerText()
      return text.includes(`(${want.agreement!.frames} compared)`) ? { want, rows: await panel.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''))) } : undefined
    }, { timeoutMs: 60_000, what: 'the panel to show the server’s comparison' })
    const { want, rows } = shown
    expect(rows).toEqual(
      want.agreement!.byClass.map((a, i) => [
        a.class,
        pct(a.agreement),
        pct(want.reviewed!.current.classes[i]?.precision),
        pct(want.reviewed!.current.classes[i]?.recall),
        pct(want.reviewed!.current.classes[i]?.ap50),
        pct(want.reviewed!.candidate.classes[i]?.precision),
        pct(want.reviewed!.candidate.classes[i]?.recall),
        pct(want.reviewed!.candidate.classes[i]?.ap50),
      ]),
    )
    expect(rows.map((r) => r[0])).toEqual(['part', 'scratch', 'dent', 'stain', 'crack'])
    // the same weights under two names: every box matched, so the agreement column is 100% wherever there were boxes
    expect(rows.some((r) => r[1] === '100%')).toBe(true)
    await panel.getByText(`On ${want.reviewed!.frames} reviewed frames: mAP@0.5 current ${pct(want.reviewed!.current.map50)}, candidate ${pct(want.reviewed!.candidate.map50)}.`).waitFor({ timeout: 5_000 })

    // promote: the line's model is the candidate, the old one kept for rollback
    await panel.locator('[data-testid=candidate-promote]').click()
    await panel.locator('[data-testid=candidate-rollback]').waitFor({ timeout: 15_000 })
    const promoted = await settingsOf(line)
    expect({ model: promoted.model, previousModel: promoted.previousModel, candidate: promoted.candidate }).toEqual({ model: 'candidate', previousModel: 'detector', candidate: undefined })
    await panel.getByText('Current model: candidate').waitFor({ timeout: 5_000 })
    expect((await detect(line, 0)).model.name).toBe('candidate')

    // roll back in one click
    await panel.locator('[data-testid=candidate-rollback]').click()
    await panel.getByText('Current model: detector').waitFor({ timeout: 15_000 })
    const rolledBack = await settingsOf(line)
    expect({ model: rolledBack.model, previousModel: rolledBack.previousModel }).toEqual({ model: 'detector', previousModel: 'candidate' })
    const audit = (await (await json('GET', '/api/v1/admin/audit?limit=1000')).json()) as { items: { action: string; target: string }[] }
    // newest first
    expect(audit.items.filter((e) => e.target === line && /^(candidate|model)\./.test(e.action)).map((e) => e.action).reverse()).toEqual(['candidate.set', 'candidate.promote', 'model.rollback'])
    expect(problems).toEqual([])
  })

  it('puts the kiosk’s newest failure in the review queue with reason flag in one click', async () => {
    const line = uniqueId('KF')
    const kiosk = await ctx.newPage()
    collectProblems(kiosk, 'kiosk', problems)
    await kiosk.setViewportSize({ width: 1920, height: 1080 })
    await kiosk.goto(`${server.url}/kiosk?lines=${line}`)
    await kiosk.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    // a failing frame for the line: the samples' known defects
    const failing = samples.find((s) => s.boxes.some((b) => b.class !== 'part'))!
    const result = await detect(line, samples.indexOf(failing))
    expect(result.verdict).toBe('fail')
    const queue = async () => ((await (await json('GET', `/api/v1/review?line=${line}&status=open`)).json()) as { items: ReviewQueueItem[] }).items
    expect((await queue()).filter((i) => i.reasons.includes('flag'))).toEqual([])

    const button = kiosk.locator(`[data-testid=failure].large [data-testid=flag][data-frame="${result.frameId}"]`)
    await button.waitFor({ timeout: 30_000 })
    expect(await button.getAttribute('data-state')).toBe('idle')
    await button.click()
    await kiosk.locator(`[data-testid=flag][data-frame="${result.frameId}"][data-state=sent]`).waitFor({ timeout: 15_000 })
    const flagged = (await queue()).filter((i) => i.reasons.includes('flag'))
    expect(flagged.map((i) => i.frameId)).toEqual([result.frameId])
    expect(problems).toEqual([])
  })
})
