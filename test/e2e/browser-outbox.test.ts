/**
 * The offline outbox in real Chromium: the server stops in the middle of a stream; the station
 * keeps inspecting on its own backend, even across a reload of the page while the server is down
 * (app shell from the service worker, models and runtime from Cache Storage, settings from the
 * last welcome); the server comes back with the same data on the same port, the outbox drains, and
 * every frame the station inspected has exactly one recorded result.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import { chromiumMissing, collectProblems, freePort, launchChromium, uniqueId, writeY4m } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { inspectedFrames, outboxPending, recordedResults, serviceWorkerReady, waitBackend } from '../helpers/station-page.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = chromiumMissing()
if (missing) console.warn(`browser-outbox e2e skipped: ${missing}`)

/**
 * What Chromium itself logs while this test keeps the server down on purpose: the station's
 * reconnect attempts and the service worker's update check fail to connect.
 */
const SERVER_DOWN = [/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\/station' failed/, /Failed to load resource: net::ERR_CONNECTION_REFUSED/, /Failed to update a ServiceWorker/]

describe.skipIf(missing !== null)('browser inference with the server down', () => {
  let tmp: string
  let dataDir: string
  let port: number
  let server: RunningServer | undefined
  let ctx: BrowserContext
  let page: Page
  const problems: string[] = []
  const line = uniqueId('OB')
  const station = 'S1'

  const start = () => startServer({ dataDir, env: { SERVE_CLIENT: 'true', PORT: String(port), HTTPS_ENABLED: 'false' } })
  const localResults = async () => Number(await page.locator('[data-testid=count-local]').textContent())

  beforeAll(async () => {
    if (clientIsStale(ROOT)) await buildClient(ROOT)
    await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
    tmp = await mkdtemp(join(ROOT, 'test/.tmp/e2e-browser-outbox-'))
    dataDir = join(tmp, 'data')
    await mkdir(dataDir)
    await writeY4m(
      loadSamples().map((s) => ({ file: s.file, frames: 2 })),
      join(tmp, 'line.y4m'),
      2,
    )
    port = await freePort()
    server = await start()
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'line.y4m') })
    page = await ctx.newPage()
    collectProblems(page, 'station', problems, SERVER_DOWN)
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('keeps inspecting through an outage and a reload, then records every inspected frame once', async () => {
    const url = `http://127.0.0.1:${port}/station?line=${line}&station=${station}`
    await page.goto(url)
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    await waitBackend(page, { final: false, timeoutMs: 240_000 })
    await serviceWorkerReady(page)

    // the server goes away mid-stream
    await server!.stop({ keepData: true })
    server = undefined
    await page.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=route][data-target=browser][data-reason=offline]').waitFor({ timeout: 30_000 })
    await waitFor(async () => (await outboxPending(page)) >= 3, { timeoutMs: 120_000, what: '3 local results waiting in the outbox' })

    // a reload while the server is down: the shell, the models and the settings are all local
    const before = await outboxPending(page)
    await page.reload()
    await waitBackend(page, { final: false, timeoutMs: 240_000 })
    expect(await outboxPending(page)).toBeGreaterThanOrEqual(before)
    await waitFor(async () => (await localResults()) >= 3, { timeoutMs: 120_000, what: 'local inspection to go on after the reload' })
    // the reload measured the backends again; on a software WebGPU adapter that keeps the CPU busy
    // for a minute, which a server starting on the same small machine should not compete with
    await waitBackend(page, { final: true, timeoutMs: 540_000 })

    // the server comes back with the same data, on the same port
    server = await start()
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
    await waitFor(async () => (await outboxPending(page)) === 0, { timeoutMs: 180_000, what: 'the outbox to drain' })

    const inspected = await inspectedFrames(page, line, station)
    const recorded = await recordedResults(server.url, line, station)
    const count = new Map<string, number>()
    for (const r of recorded) count.set(r.frameId, (count.get(r.frameId) ?? 0) + 1)
    const missingIds = inspected.filter((f) => !count.has(f.frameId)).map((f) => f.frameId)
    expect(missingIds).toEqual([])
    expect([...count].filter(([, n]) => n !== 1)).toEqual([])
    const local = inspected.filter((f) => f.where === 'browser')
    expect(local.length).toBeGreaterThanOrEqual(6)
    const byId = new Map(recorded.map((r) => [r.frameId, r]))
    for (const f of local) expect(byId.get(f.frameId)?.inferredAt).toBe('browser')
    expect(await page.locator('[data-testid=outbox]').getAttribute('data-rejected')).toBe('0')
    expect(problems).toEqual([])
  }, 1_200_000)
})
