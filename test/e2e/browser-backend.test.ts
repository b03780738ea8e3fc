/**
 * Browser inference in real Chromium: the station measures WebGPU (here a software adapter,
 * SwiftShader) and WASM and serves with the faster; its prefilter skips a camera that shows the
 * same frame over and over, and the server counts those skips; a reload takes the models and the
 * runtime from Cache Storage instead of downloading them again.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, metricValue, uniqueId, writeY4m } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { backendEp, candidates, waitBackend } from '../helpers/station-page.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = chromiumMissing()
if (missing) console.warn(`browser-backend e2e skipped: ${missing}`)

/** Model files, manifests and the onnxruntime-web binary: what a reload must not fetch again. */
const CACHED = /\/models\/[^/]+\/(?:[0-9a-f]{64}\.onnx|manifest\.json)$|\/assets\/[^/]+\.wasm$/

describe.skipIf(missing !== null)('browser inference: backend choice, prefilter, model cache', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  let page: Page
  const problems: string[] = []
  const line = uniqueId('BK')
  const fetched: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('browser-backend')
    // one image, every frame the same: after the first frame is sent, nothing changes
    await writeY4m([{ file: 'clean-part.jpg', frames: 10 }], join(tmp, 'still.y4m'), 5)
    server = await startServer({ env: { SERVE_CLIENT: 'true' } })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'still.y4m') })
    page = await ctx.newPage()
    collectProblems(page, 'station', problems)
    // requests of the page and of its dedicated workers (the inference worker fetches the models)
    page.on('request', (r: Request) => {
      if (CACHED.test(new URL(r.url()).pathname)) fetched.push(new URL(r.url()).pathname)
    })
    await page.goto(`${server.url}/station?line=${line}&station=S1`)
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('measures WebGPU and WASM at startup and serves with the faster one', async () => {
    // SwiftShader compiles every WebGPU shader on the CPU: a minute or two on this machine
    await waitBackend(page, { final: true, timeoutMs: 540_000 })
    const measured = await candidates(page)
    expect(measured.map((c) => c.ep)).toEqual(['webgpu', 'wasm'])
    for (const c of measured) {
      expect(c, `${c.ep} was measured`).toMatchObject({ ok: true })
      expect(c.detectorMs).toBeGreaterThan(0)
      expect(c.prefilterMs).toBeGreaterThan(0)
    }
    const cost = (c: (typeof measured)[number]) => c.detectorMs! + c.prefilterMs!
    const fastest = measured.reduce((a, b) => (cost(b) < cost(a) ? b : a))
    expect(await backendEp(page)).toBe(fastest.ep)
    // on a software adapter WebGPU must lose; a machine with a real GPU may choose it
    const adapter = (await page.locator('[data-testid=candidate-webgpu]').getAttribute('data-adapter')) ?? ''
    if (/swiftshader/i.test(adapter)) expect(fastest.ep).toBe('wasm')

    // the server knows which backend the station runs
    await waitFor(async () => metricValue(await (await server.admin(`/metrics`)).text(), 'linesight_station_backend_info', { line, station: 'S1', ep: fastest.ep }) === 1, {
      timeoutMs: 10_000,
      what: `linesight_station_backend_info for ${fastest.ep}`,
    })
    expect(problems).toEqual([])
  }, 600_000)

  it('skips the repeated frames of a still camera and the server counts them as unchanged', async () => {
    await waitFor(async () => Number(await page.locator('[data-testid=skip-unchanged]').textContent()) >= 5, { timeoutMs: 60_000, what: 'the station to skip 5 unchanged frames' })
    const skipped = await waitFor(
      async () => {
        const n = metricValue(await (await server.admin(`/metrics`)).text(), 'linesight_frames_skipped_total', { line, reason: 'unchanged' })
        return n > 0 ? n : null
      },
      { timeoutMs: 15_000, what: 'linesight_frames_skipped_total{reason="unchanged"} on the server' },
    )
    expect(skipped).toBeGreaterThan(0)
    // a still, sharp, well-lit part is not worth a hint to the operator
    expect(await page.locator('[data-testid=prefilter-hint]').count()).toBe(0)
    expect(problems).toEqual([])
  }, 120_000)

  it('takes the models and the runtime from the cache after a reload', async () => {
    // the first visit fetched each file once (the measuring worker read them from the cache)
    const first = [...fetched]
    expect(first.filter((p) => p.endsWith('.onnx')).length).toBe(2)
    expect(first.filter((p) => p.endsWith('.wasm')).length).toBe(1)
    expect(new Set(first).size).toBe(first.length)
    fetched.length = 0
    await page.reload()
    await waitBackend(page, { final: false, timeoutMs: 240_000 })
    expect(fetched).toEqual([])
    expect(await page.locator('[data-testid=backend-details]').getAttribute('data-from-cache')).toBe('true')
    expect(problems).toEqual([])
  }, 300_000)
})
