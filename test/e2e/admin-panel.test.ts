/**
 * The admin panel in a real Chromium against a real linesight process: a station token is
 * refused, the admin token signs in, an edit to the scaling settings changes the what-if
 * replay of the recorded day before anything is saved, saving applies it (the API serves it
 * back) and audits it, a line's settings are saved the same way, a station's region of interest
 * is drawn on its latest image and saved, and the status page charts the recorded load. Any
 * console error or page error other than the refused sign-in fails the test.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScalingDoc } from '../../shared/domain/scaling.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { openSqliteStore } from '../../server/storage/sqlite.ts'
import { loadSamples } from '../helpers/samples.ts'
import { e2eTempDir } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu']
const LINE = 'E2E-ADMIN'
const MINUTE = 60_000
/** The browser's own report of the refused sign-in (a 403 answer to fetch), the one expected error. */
const REFUSED = /Failed to load resource: the server responded with a status of 403/

function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
}

const skip = !existsSync(CHROMIUM)
if (skip) console.warn(`admin-panel e2e skipped: no Chromium at ${CHROMIUM}`)

describe.skipIf(skip)('admin panel in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  let stationToken: string
  const problems: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('admin')
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false' } })

    // a frame makes the line known; a day of load is recorded beside it, as a recorder would have
    const detect = await server.admin(`/api/v1/detect?line=${LINE}&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: loadSamples()[0]!.bytes as BodyInit })
    expect(detect.status).toBe(200)
    const store = openSqliteStore({ dataDir: server.dataDir })
    await store.migrate()
    const now = Math.floor(Date.now() / MINUTE) * MINUTE
    for (let m = now - 24 * 60 * MINUTE; m < now; m += MINUTE) {
      const busy = m >= now - 20 * 60 * MINUTE && m < now - 12 * 60 * MINUTE
      await store.loadHistory.add({ minute: m, line: LINE, source: 'seeded', frames: (busy ? 40 : 8) * 60, skipped: busy ? 600 : 100, browserFrames: busy ? 120 : 0, queueDepthMax: busy ? 12 : 1, workers: 2, p95Ms: busy ? 320 : 90 })
    }
    await store.close()

    const created = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'station', lines: [LINE], label: 'e2e station' }) })
    stationToken = ((await created.json()) as { secret: string }).secret
    ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM, args: FLAGS, viewport: { width: 1280, height: 800 }, locale: 'en-US' })
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  const simulatedWorkers = (page: Page) => page.locator('[data-testid=chart-workers] path[data-series=workers-simulated]').getAttribute('d')

  it('refuses a station token, then tunes, replays, saves and audits with the admin token', async () => {
    const page = await ctx.newPage()
    collectProblems(page, problems)
    await page.goto(`${server.url}/admin`)

    await page.fill('[data-testid=admin-token]', stationToken)
    await page.click('[data-testid=sign-in]')
    await page.locator('[data-testid=auth-error]').waitFor({ timeout: 15_000 })
    expect(await page.locator('[data-testid=scaling-form]').count()).toBe(0)
    expect(problems.filter((p) => !REFUSED.test(p))).toEqual([])
    expect(problems.filter((p) => REFUSED.test(p))).toHaveLength(1)
    problems.length = 0

    await page.fill('[data-testid=admin-token]', server.adminToken)
    await page.click('[data-testid=sign-in]')
    await page.locator('[data-testid=scaling-form]').waitFor({ timeout: 15_000 })

    // the replay of the recorded day runs on its own once the settings are there
    await page.waitForFunction(() => (document.querySelector('[data-testid=chart-workers] path[data-series=workers-simulated]')?.getAttribute('d') ?? '').length > 0, undefined, { timeout: 30_000 })
    const before = await simulatedWorkers(page)
    const doc0 = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(doc0.settings.maxWorkers).toBeGreaterThan(1)

    // one worker at most: the replayed day must look different before anything is saved
    await page.fill('[data-testid=scaling-max]', '1')
    await page.waitForFunction((d) => {
      const now = document.querySelector('[data-testid=chart-workers] path[data-series=workers-simulated]')?.getAttribute('d')
      return !!now && now !== d
    }, before, { timeout: 30_000 })
    expect(Number(await page.locator('[data-testid=sim-backlog]').textContent())).toBeGreaterThan(0)
    const unsaved = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(unsaved.settings.maxWorkers).toBe(doc0.settings.maxWorkers)

    // an invalid edit is named and cannot be saved
    await page.fill('[data-testid=scaling-min]', '3')
    await page.locator('[data-testid=scaling-issues]').waitFor()
    expect(await page.locator('[data-testid=scaling-save]').isDisabled()).toBe(true)
    await page.fill('[data-testid=scaling-min]', '1')

    await page.click('[data-testid=scaling-save]')
    await page.locator('[data-testid=scaling-saved]').waitFor({ timeout: 15_000 })
    const saved = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(saved.settings.maxWorkers).toBe(1)
    expect(saved.revision).not.toBeNull()
    const audit = (await (await server.admin('/api/v1/admin/audit?limit=10')).json()) as { items: { action: string; target: string; after?: { maxWorkers?: number } }[] }
    expect(audit.items.find((e) => e.target === 'scaling')).toMatchObject({ action: 'settings.put', after: { maxWorkers: 1 } })
    await page.locator('[data-testid=audit-entry]', { hasText: 'scaling' }).first().waitFor()

    // a line's settings: validated, saved, served back, audited
    await page.selectOption('[data-testid=line-select]', LINE)
    await page.fill('[data-testid=line-audit]', '0.25')
    await page.selectOption('[data-testid=line-policy]', 'browser-preferred')
    await page.click('[data-testid=line-save]')
    await page.locator('[data-testid=line-saved]').waitFor({ timeout: 15_000 })
    const line = (await (await server.admin(`/api/v1/lines/${LINE}/settings`)).json()) as LineSettings
    expect(line).toMatchObject({ auditFraction: 0.25, policy: 'browser-preferred' })
    const audit2 = (await (await server.admin('/api/v1/admin/audit?limit=10')).json()) as { items: { target: string }[] }
    expect(audit2.items.some((e) => e.target === `line:${LINE}`)).toBe(true)

    expect(problems).toEqual([])
  })

  it("draws a station's region of interest on its latest stored image and saves it with the line", async () => {
    const page = await ctx.newPage()
    collectProblems(page, problems)
    await page.goto(`${server.url}/admin#token=${server.adminToken}`)
    await page.locator('[data-testid=line-select]').waitFor({ timeout: 15_000 })
    await page.selectOption('[data-testid=line-select]', LINE)
    await page.fill('[data-testid=inspection-new-station]', 'S1')
    await page.click('[data-testid=inspection-add-station]')
    await page.click('[data-testid=roi-edit]')
    // the station's failing frame recorded in beforeAll is the snapshot drawn on
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('[data-testid=roi-snapshot]')?.naturalWidth ?? 0) > 0, undefined, { timeout: 15_000 })
    await page.locator('[data-testid=roi-surface]').scrollIntoViewIfNeeded()
    const box = (await page.locator('[data-testid=roi-surface]').boundingBox())!
    expect(box.width / box.height).toBeCloseTo(640 / 480, 1)
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5, { steps: 4 })
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 4 })
    await page.mouse.up()
    await page.locator('[data-testid=roi-rect]').waitFor({ timeout: 5000 })
    expect(await page.locator('[data-testid=roi-count]').textContent()).toBe('1 of 8')
    // a tap adds nothing
    await page.mouse.click(box.x + box.width * 0.8, box.y + box.height * 0.8)
    expect(await page.locator('[data-testid=roi-count]').textContent()).toBe('1 of 8')
    expect(await page.locator('[data-testid=roi-rect]').count()).toBe(1)

    await page.click('[data-testid=line-save]')
    await page.locator('[data-testid=line-saved]').waitFor({ timeout: 15_000 })
    const line = (await (await server.admin(`/api/v1/lines/${LINE}/settings`)).json()) as LineSettings
    const roi = line.inspection?.stations.S1?.roi
    expect(roi).toHaveLength(1)
    const expected = [0.1, 0.2, 0.6, 0.7]
    roi![0]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 1))
    expect(problems).toEqual([])
  })

  it('charts the recorded load on the status page', async () => {
    const page = await ctx.newPage()
    collectProblems(page, problems)
    // nothing is open without a token (AUTH_REQUIRED by default): sign in, then the same tab reads it
    await page.goto(`${server.url}/admin#token=${server.adminToken}`)
    await page.locator('[data-testid=sign-out]').waitFor({ timeout: 15_000 })
    await page.goto(`${server.url}/status`)
    await page.locator('[data-testid=status-charts]').waitFor({ timeout: 15_000 })
    const throughput = () => page.locator('[data-testid=chart-throughput] path[data-series=frames]').getAttribute('d')
    await page.waitForFunction(() => (document.querySelector('[data-testid=chart-throughput] path[data-series=frames]')?.getAttribute('d') ?? '').length > 0, undefined, { timeout: 15_000 })
    const hour = await throughput()
    await page.click('[data-testid=range-24h]')
    await page.waitForFunction((d) => {
      const now = document.querySelector('[data-testid=chart-throughput] path[data-series=frames]')?.getAttribute('d')
      return !!now && now !== d
    }, hour, { timeout: 15_000 })
    expect(await page.locator('[data-testid=chart-workers] path[data-series=workersMax]').getAttribute('d')).toMatch(/^M/)
    expect(problems).toEqual([])
  })
})
