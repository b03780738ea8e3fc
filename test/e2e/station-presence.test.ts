/**
 * Presence mode in a real browser: Chromium's fake camera plays the parts video (`npm run
 * models:y4m -- out.y4m --parts N`, made here into a temp folder), parts passing one after another
 * on an empty belt, each with a QR code of its id. The station's prefilter opens a part when one
 * enters and closes it when it has left; the part's id is read from its code (the polyfill's
 * WebAssembly reader, served by linesight: nothing is fetched from elsewhere). Each part that passed
 * gives exactly one part record, with its id and the verdict the video's truth gives, and the
 * kiosk's part counts equal the truth.
 *
 * The fake camera loops its file. The station is readied first on the demo source in `continuous`
 * mode (models loaded, backend measured: no parts there), then paused, switched to `presence` and
 * given the camera, which starts the file from its first frame; the video ends on a long stretch of
 * empty belt, and the station is closed as soon as the truth's parts closed, so only the first loop
 * is inspected. A second passage of a part would show: its record would hold more frames than a
 * passage inspects, and an unread code would add a part with a sequence id.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import type { PartRecord } from '../../shared/domain/part.ts'
import type { PartsTruth } from '../../models/tools/parts-video.ts'
import { writePartsVideo } from '../../models/tools/y4m.ts'
import { chromiumMissing, collectProblems, launchChromium } from '../helpers/browser.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitBackend } from '../helpers/station-page.ts'
import { waitFor } from '../helpers/wait.ts'

const PARTS = 6
const SEED = 14
const FPS = 5
const PRESENCE_FRAMES = 3

const missing = chromiumMissing()
if (missing) console.warn(`station-presence e2e skipped: ${missing}`)

describe.skipIf(missing !== null)('presence mode at a station in Chromium, parts passing the camera', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  let truth: PartsTruth
  const problems: string[] = []

  const inspection = (mode: 'continuous' | 'presence') => ({ mode: 'continuous', rule: 'any', burstFrames: 2, presenceFrames: PRESENCE_FRAMES, holdFailures: false, stations: { S1: { mode } } })

  async function putSettings(body: Record<string, unknown>): Promise<void> {
    const res = await server.admin('/api/v1/lines/L1/settings', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(res.status, await res.clone().text()).toBe(200)
  }

  beforeAll(async () => {
    if (clientIsStale(ROOT)) await buildClient(ROOT)
    await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
    tmp = await mkdtemp(join(ROOT, 'test/.tmp/e2e-station-presence-'))
    // 2 s of belt between parts (the station needs 2 empty frames to end a passage), 1.6 s per part,
    // 4 s before the first (the station is unpaused meanwhile) and 12 s after the last
    ;({ truth } = await writePartsVideo(join(tmp, 'parts.y4m'), { parts: PARTS, seed: SEED, gapFrames: 10, passFrames: 8, leadFrames: 20, tailFrames: 60 }, FPS))
    server = await startServer({ env: { SERVE_CLIENT: 'true', PART_IDLE_MS: '120000' } })
    const current = (await (await server.admin('/api/v1/lines/L1/settings')).json()) as { prefilter: Record<string, unknown> }
    await putSettings({ policy: 'server-only', captureFps: FPS, prefilter: { ...current.prefilter, enabled: true }, inspection: inspection('continuous') })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'parts.y4m'), viewport: { width: 1920, height: 1080 } })
    // the station starts on the demo source; the camera (and its file) only once it is ready
    await ctx.addInitScript(() => {
      if (!localStorage.getItem('linesight.source:L1/S1')) localStorage.setItem('linesight.source:L1/S1', 'demo')
    })
  }, 180_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('gives one part per part that passed, with the id read from its code and the right verdict; the kiosk counts them', async () => {
    expect(truth.parts.map((p) => p.verdict)).toContain('fail')
    expect(truth.parts.map((p) => p.verdict)).toContain('pass')
    const page = await ctx.newPage()
    collectProblems(page, 'station', problems)
    const elsewhere: string[] = []
    const wasm: string[] = []
    page.on('request', (r) => {
      const url = r.url()
      if (!url.startsWith(server.url) && !url.startsWith('data:') && !url.startsWith('blob:')) elsewhere.push(url)
    })
    // the worker's requests (models, runtime, the code reader) go through the context
    ctx.on('request', (r) => {
      const url = r.url()
      if (url.includes('zxing_reader')) wasm.push(url)
      if (!url.startsWith(server.url) && !url.startsWith('data:') && !url.startsWith('blob:')) elsewhere.push(url)
    })
    await page.goto(`${server.url}/station?line=L1&station=S1`)
    await page.locator('.stage[data-source=demo]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    await waitBackend(page, { final: true, timeoutMs: 180_000 })

    await page.locator('[data-testid=pause]').click()
    await page.locator('[data-testid=pause][aria-pressed=true]').waitFor({ timeout: 10_000 })
    await putSettings({ inspection: inspection('presence') })
    await page.locator('[data-testid=part-panel][data-mode=presence]').waitFor({ timeout: 30_000 })
    // no camera was opened yet: the picker offers to try one
    await page.locator('[data-testid=source-picker] button').first().click()
    await page.locator('.stage[data-source=camera]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=pause]').click()
    await page.locator('[data-testid=pause][aria-pressed=false]').waitFor({ timeout: 10_000 })

    const list = async () => ((await (await server.admin('/api/v1/lines/L1/parts?limit=1000')).json()) as { items: PartRecord[] }).items
    let seen: PartRecord[] = []
    await waitFor(
      async () => {
        seen = await list()
        return truth.parts.every((t) => seen.some((p) => p.partId === t.partId && p.closedAt !== null))
      },
      { timeoutMs: 240_000, what: `the ${PARTS} parts of the video to close` },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; parts recorded: ${JSON.stringify(seen.map((p) => ({ id: p.partId, verdict: p.verdict, frames: p.frames.length, closedAt: p.closedAt })))}`)
    })
    // the first loop is over (12 s of belt follow the last part): the station stops here
    await page.close()

    const parts = await list()
    expect(parts.map((p) => p.partId).sort(), 'one record per part, no part without its code').toEqual(truth.parts.map((p) => p.partId).sort())
    for (const t of truth.parts) {
      const p = parts.find((x) => x.partId === t.partId)!
      expect(p, `${t.partId} (${t.file})`).toMatchObject({ station: 'S1', verdict: t.verdict, idSource: 'barcode', closedBy: 'passage' })
      expect(p.frames.length, `${t.partId}: the sharpest frames of one passage`).toBeGreaterThanOrEqual(1)
      expect(p.frames.length, `${t.partId}: the sharpest frames of one passage`).toBeLessThanOrEqual(PRESENCE_FRAMES)
      for (const frameId of p.frames) {
        const r = (await (await server.admin(`/api/v1/results/${frameId}`)).json()) as { partId?: string }
        expect(r.partId).toBe(t.partId)
      }
    }
    expect(wasm.length, 'the code reader came from linesight').toBeGreaterThan(0)
    expect(elsewhere, 'nothing fetched from anywhere but linesight').toEqual([])

    const kiosk = await ctx.newPage()
    collectProblems(kiosk, 'kiosk', problems)
    await kiosk.goto(`${server.url}/kiosk?lines=L1`)
    await kiosk.locator('[data-testid=part-totals]').waitFor({ timeout: 30_000 })
    const want = { inspected: truth.parts.length, failed: truth.parts.filter((p) => p.verdict === 'fail').length }
    let shown = {}
    await waitFor(
      async () => {
        shown = {
          inspected: Number(await kiosk.locator('[data-testid=part-inspected]').textContent()),
          failed: Number(await kiosk.locator('[data-testid=part-failed]').textContent()),
        }
        return JSON.stringify(shown) === JSON.stringify(want)
      },
      { timeoutMs: 30_000, what: `kiosk part counts ${JSON.stringify(want)}` },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; the kiosk showed ${JSON.stringify(shown)}`)
    })
    expect(problems).toEqual([])
  }, 600_000)
})
