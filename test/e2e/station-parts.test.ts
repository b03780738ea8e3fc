/**
 * Parts in a real browser: a station in `trigger` mode streams Chromium's fake camera (the sample
 * images as a .y4m); HTTP triggers each start a burst, and each gives exactly one part record with
 * the id the trigger gave. The station screen shows the inspected still with its own boxes (in the
 * DOM and in the screenshot's pixels), holds a failing part under a full-screen NG until it is
 * acknowledged, and sounds the alarm (an AudioContext spy counts the tones).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import type { PartRecord } from '../../shared/domain/part.ts'
import { chromiumMissing, collectProblems, launchChromium, writeY4m } from '../helpers/browser.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const FRAMES_PER_SAMPLE = 2
/** Triggers sent at most while waiting for a failing part (the camera cycles through the samples). */
const MAX_TRIGGERS = 16

const missing = chromiumMissing()
if (missing) console.warn(`station-parts e2e skipped: ${missing}`)

describe.skipIf(missing !== null)('parts at a station in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const problems: string[] = []

  beforeAll(async () => {
    if (clientIsStale(ROOT)) await buildClient(ROOT)
    await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
    tmp = await mkdtemp(join(ROOT, 'test/.tmp/e2e-station-parts-'))
    const samples = (JSON.parse(await readFile(join(ROOT, 'models/samples/samples.json'), 'utf8')) as { samples: { file: string }[] }).samples
    await writeY4m(samples.map((s) => ({ file: s.file, frames: FRAMES_PER_SAMPLE })), join(tmp, 'camera.y4m'), FRAMES_PER_SAMPLE)
    server = await startServer({ env: { SERVE_CLIENT: 'true', PART_IDLE_MS: '120000' } })
    const current = (await (await server.admin('/api/v1/lines/L1/settings')).json()) as { prefilter: Record<string, unknown> }
    const put = await server.admin('/api/v1/lines/L1/settings', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        policy: 'server-only',
        prefilter: { ...current.prefilter, enabled: false },
        inspection: { mode: 'continuous', rule: 'any', burstFrames: 2, presenceFrames: 3, holdFailures: true, stations: { S1: { mode: 'trigger' } } },
      }),
    })
    expect(put.status).toBe(200)
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'camera.y4m'), viewport: { width: 1920, height: 1080 } })
    // the alarm's tones, counted where the page makes them
    await ctx.addInitScript(() => {
      const w = window as unknown as { __tones: number; AudioContext: typeof AudioContext }
      w.__tones = 0
      const Original = w.AudioContext
      w.AudioContext = class extends Original {
        override createOscillator(): OscillatorNode {
          const osc = super.createOscillator()
          const start = osc.start.bind(osc)
          osc.start = (when?: number) => {
            w.__tones++
            start(when)
          }
          return osc
        }
      }
    })
  }, 180_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  async function trigger(partId: string): Promise<PartRecord> {
    const res = await server.admin('/api/v1/lines/L1/stations/S1/trigger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partId }) })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { partId: string }).partId).toBe(partId)
    return waitFor(
      async () => {
        const p = (await (await server.admin(`/api/v1/lines/L1/parts/${encodeURIComponent(partId)}`)).json()) as PartRecord
        return p.closedAt !== null ? p : undefined
      },
      { timeoutMs: 110_000, what: `part ${partId} to close` },
    )
  }

  const tones = (page: Page) => page.evaluate(() => (window as unknown as { __tones: number }).__tones)

  it('makes one part per HTTP trigger with its id, shows it inspected, and holds a failing part until acknowledged; the kiosk counts those parts', async () => {
    const page = await ctx.newPage()
    collectProblems(page, 'station', problems)
    await page.goto(`${server.url}/station?line=L1&station=S1`)
    await page.locator('.stage[data-source=camera]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=part-panel][data-mode=trigger]').waitFor({ timeout: 30_000 })
    // a user gesture, as an operator starting the station gives one: audio may start
    await page.mouse.click(5, 5)

    const parts: PartRecord[] = []
    let failed: PartRecord | undefined
    for (let i = 1; i <= MAX_TRIGGERS && !failed; i++) {
      const part = await trigger(`T-${i}`)
      parts.push(part)
      expect(part).toMatchObject({ partId: `T-${i}`, station: 'S1', closedBy: 'burst', idSource: 'trigger' })
      expect(part.frames.length).toBe(2)
      if (part.verdict === 'fail') failed = part
      else {
        // a passing part is shown at once, its images each with their own result
        const still = page.locator(`[data-testid=part-still][data-part-id="T-${i}"]`).first()
        await still.waitFor({ timeout: 30_000 })
        await page.locator(`[data-testid=part-still][data-part-id="T-${i}"] [data-testid=part-image][data-judged=pass]`).nth(1).waitFor({ timeout: 30_000 })
      }
    }
    expect(failed, 'the camera shows defective samples; one burst of them must fail').toBeDefined()
    // one record per trigger, no more
    const listed = (await (await server.admin('/api/v1/lines/L1/parts?limit=1000')).json()) as { items: PartRecord[] }
    expect(listed.items.map((p) => p.partId).sort()).toEqual(parts.map((p) => p.partId).sort())
    // every frame of those parts carries its part id
    for (const p of parts) {
      for (const frameId of p.frames) {
        const r = (await (await server.admin(`/api/v1/results/${frameId}`)).json()) as { partId?: string }
        expect(r.partId).toBe(p.partId)
      }
    }

    // the failing part is held full screen, with its inspected image and its boxes
    const ng = page.locator('[data-testid=ng]')
    await ng.waitFor({ timeout: 30_000 })
    expect(await ng.locator('[data-testid=part-still]').getAttribute('data-part-id')).toBe(failed!.partId)
    const failingImage = ng.locator('[data-testid=part-image][data-judged=fail]').first()
    await failingImage.waitFor({ timeout: 30_000 })
    expect(await failingImage.locator('[data-testid=box]').count()).toBeGreaterThan(0)
    expect(await failingImage.locator('img').evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0)).toBe(true)
    // the boxes are drawn on that image: its pixels change when they are hidden
    const withBoxes = await failingImage.screenshot()
    await failingImage.locator('[data-testid=overlay]').evaluate((el) => ((el as HTMLElement).style.visibility = 'hidden'))
    const without = await failingImage.screenshot()
    await failingImage.locator('[data-testid=overlay]').evaluate((el) => ((el as HTMLElement).style.visibility = ''))
    expect(withBoxes.equals(without)).toBe(false)

    // the alarm sounded
    await waitFor(async () => (await tones(page)) > 0, { timeoutMs: 10_000, what: 'the alarm to sound' })

    // a part triggered meanwhile does not take the failing part's place
    const next = await trigger('T-after')
    expect(next).toMatchObject({ partId: 'T-after', closedBy: 'burst' })
    expect(next.frames.length, JSON.stringify(next)).toBe(2)
    expect(await ng.locator('[data-testid=part-still]').getAttribute('data-part-id')).toBe(failed!.partId)

    await page.locator('[data-testid=acknowledge]').click()
    await ng.waitFor({ state: 'detached', timeout: 10_000 }).catch(async (err: unknown) => {
      const heldNow = await ng.locator('[data-testid=part-still]').getAttribute('data-part-id')
      const listedNow = await (await server.admin('/api/v1/lines/L1/parts')).text()
      throw new Error(`${String(err)}; still held: ${heldNow}; parts then ${JSON.stringify([...parts, next])}; parts now ${listedNow}`)
    })

    // the kiosk counts parts, as the server recorded them, and its failures stay readable at 1080p
    const all = [...parts, next]
    const kiosk = await ctx.newPage()
    collectProblems(kiosk, 'kiosk', problems)
    await kiosk.goto(`${server.url}/kiosk?lines=L1`)
    await kiosk.locator('[data-testid=part-totals]').waitFor({ timeout: 30_000 })
    const shown = async () => ({
      inspected: Number(await kiosk.locator('[data-testid=part-inspected]').textContent()),
      failed: Number(await kiosk.locator('[data-testid=part-failed]').textContent()),
    })
    const truth = { inspected: all.length, failed: all.filter((p) => p.verdict === 'fail').length }
    let last = {}
    await waitFor(
      async () => {
        last = await shown()
        return JSON.stringify(last) === JSON.stringify(truth)
      },
      { timeoutMs: 30_000, what: `kiosk part counts ${JSON.stringify(truth)}` },
    ).catch(async (err: unknown) => {
      const api = await (await server.admin('/api/v1/lines/L1/part-counts')).text()
      const listedNow = await (await server.admin('/api/v1/lines/L1/parts')).text()
      throw new Error(`${String(err)}; the kiosk showed ${JSON.stringify(last)}; the server counts ${api}; parts then ${JSON.stringify(all)}; parts now ${listedNow}`)
    })
    const cards = kiosk.locator('[data-testid=failure]')
    await cards.first().waitFor({ timeout: 30_000 })
    for (const card of await cards.all()) {
      const box = (await card.boundingBox())!
      const caption = (await card.locator('figcaption').boundingBox())!
      const image = (await card.locator('.image').boundingBox())!
      expect(caption.y + caption.height, 'caption inside its card').toBeLessThanOrEqual(box.y + box.height + 1)
      expect(image.height, 'failure image readable across the aisle').toBeGreaterThanOrEqual(100)
    }
    expect(problems).toEqual([])
  }, 600_000)
})
