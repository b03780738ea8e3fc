/**
 * Load-aware routing in real Chromium: an `auto` station streaming to a server whose inference an
 * administrator paused moves its frames to its own backend at once, and the results it infers
 * locally are still recorded by the server (with the JPEG of a failing part). On the way, the
 * prefilter tells the operator about the blurred frames in the sample loop.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, metricValue, uniqueId, writeY4m } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { backendEp, recordedResults, waitBackend } from '../helpers/station-page.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = chromiumMissing()
if (missing) console.warn(`browser-paused e2e skipped: ${missing}`)

describe.skipIf(missing !== null)('browser inference when the server pauses', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  let page: Page
  const problems: string[] = []
  const line = uniqueId('PA')

  beforeAll(async () => {
    tmp = await e2eTempDir('browser-paused')
    // the sample parts in turn, each in view for a second
    await writeY4m(
      loadSamples().map((s) => ({ file: s.file, frames: 2 })),
      join(tmp, 'line.y4m'),
      2,
    )
    server = await startServer({ env: { SERVE_CLIENT: 'true' } })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'line.y4m') })
    page = await ctx.newPage()
    collectProblems(page, 'station', problems)
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('infers locally while server inference is paused, and the server still records the results', async () => {
    const settings = (await (await server.admin(`/api/v1/lines/${line}/settings`)).json()) as { policy: string }
    expect(settings.policy).toBe('auto')
    await page.goto(`${server.url}/station?line=${line}&station=S1`)
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    await waitBackend(page, { final: false, timeoutMs: 240_000 })
    const ep = await backendEp(page)
    // the motion-blurred sample passes the camera every loop: the operator is told, in large type
    await page.locator('[data-testid=prefilter-hint][data-hint=blur]').waitFor({ timeout: 60_000 })
    expect(await page.locator('[data-testid=prefilter-hint]').textContent()).toContain('clean the lens')

    const paused = await server.admin('/api/v1/admin/inference/pause', { method: 'POST' })
    expect(paused.status).toBe(200)
    await page.locator('[data-testid=route][data-target=browser][data-reason=paused]').waitFor({ timeout: 10_000 })

    const local = await waitFor(
      async () => {
        const browser = (await recordedResults(server.url, line, 'S1')).filter((r) => r.inferredAt === 'browser')
        return browser.length >= 5 ? browser : null
      },
      { timeoutMs: 180_000, what: '5 browser-inferred results recorded by the server' },
    )
    const manifest = (await (await server.admin(`/models/detector/manifest.json`)).json()) as { name: string; version: string }
    for (const r of local) {
      expect(r).toMatchObject({ ep, source: 'browser', model: { name: manifest.name, version: manifest.version } })
      expect(r.timings.infer).toBeGreaterThan(0)
    }
    // a failing part inferred locally keeps its image on the server, like one inferred there
    const failing = local.find((r: InspectionResult) => r.verdict === 'fail')
    if (failing) {
      // the store may make the thumbnail a moment after the result is listed
      const img = await waitFor(
        async () => {
          const res = await server.admin(`/api/v1/results/${failing.frameId}/image?variant=thumbnail`)
          return res.status === 200 ? res : null
        },
        { timeoutMs: 15_000, what: `the stored image of failing frame ${failing.frameId}` },
      )
      expect(img.headers.get('content-type')).toMatch(/^image\//)
    } else {
      console.warn('browser-paused e2e: no locally inferred frame failed, so no result image was checked')
    }
    if (process.env.E2E_SCREENSHOTS) {
      await page.locator('[data-testid=backend-details] summary').click()
      await page.screenshot({ path: join(process.env.E2E_SCREENSHOTS, 'station-browser-inference-1280x800.png'), fullPage: true })
    }
    const metrics = await (await server.admin(`/metrics`)).text()
    expect(metricValue(metrics, 'linesight_inference_seconds_count', { where: 'browser', ep })).toBeGreaterThanOrEqual(local.length)

    expect((await server.admin('/api/v1/admin/inference/resume', { method: 'POST' })).status).toBe(200)
    await page.locator('[data-testid=route]:not([data-reason=paused])').waitFor({ timeout: 10_000 })
    expect(problems).toEqual([])
  }, 480_000)
})
