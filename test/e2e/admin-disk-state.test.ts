/**
 * The data folder's state on the admin page (issue 19), in a real Chromium against a real
 * linesight process whose DATA_MIN_FREE_MB is set above the free space its data folder has: /ready
 * answers 503 with `dataDir.ready: false`, and the admin page must say the folder is low on space,
 * with the figures /ready reports, in English and in Chinese. (The full disk itself is made on a
 * tmpfs by test/integration/chaos-disk-full.test.ts; here only what the page says is checked.)
 */
import { existsSync } from 'node:fs'
import { mkdir, rm, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { e2eTempDir } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** Chromium's own line for the 503 /ready answers while the disk is low: expected here. */
const NOT_READY = /Failed to load resource: the server responded with a status of 503/

const skip = !existsSync(CHROMIUM)
if (skip) console.warn(`admin-disk-state e2e skipped: no Chromium at ${CHROMIUM}`)

describe.skipIf(skip)('the data folder state on the admin page', () => {
  let tmp: string
  let dataDir: string
  let server: RunningServer
  let minFreeMb: number
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('disk')
    dataDir = join(tmp, 'data')
    await mkdir(dataDir)
    const fs = await statfs(dataDir)
    // a gigabyte more than there is: the folder is "low" whatever this machine has free
    minFreeMb = Math.ceil((fs.bavail * fs.bsize) / (1024 * 1024)) + 1024
    server = await startServer({ dataDir, waitReady: false, env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false', DATA_MIN_FREE_MB: String(minFreeMb) } })
    await waitFor(async () => (await fetch(`${server.url}/ready`)).status === 503, { timeoutMs: 60_000, what: '/ready 503 with the data folder under its minimum' })
  }, 300_000)

  afterAll(async () => {
    for (const c of contexts) await c.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  async function signedIn(locale: string): Promise<{ page: Page; problems: string[] }> {
    const ctx = await chromium.launchPersistentContext(join(tmp, `profile-${locale}`), { executablePath: CHROMIUM, args: FLAGS, viewport: { width: 1280, height: 800 }, locale })
    contexts.push(ctx)
    const page = await ctx.newPage()
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' && !NOT_READY.test(m.text())) problems.push(`console.error: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await page.goto(`${server.url}/admin`)
    await page.fill('[data-testid=admin-token]', server.adminToken)
    await page.click('[data-testid=sign-in]')
    await page.locator('[data-testid=server-state]').waitFor({ timeout: 15_000 })
    return { page, problems }
  }

  it('says the data folder is low on space, with the free space and the minimum', { timeout: 120_000 }, async () => {
    const { page, problems } = await signedIn('en-US')
    const message = page.locator('[data-testid=disk-message]')
    await message.waitFor({ timeout: 15_000 })
    expect(await page.locator('[data-testid=disk-free]').getAttribute('data-level')).toBe('low')
    expect(await message.getAttribute('role')).toBe('alert')
    const text = await message.innerText()
    expect(text).toContain('low on space')
    expect(text).toContain(`under the minimum of ${minFreeMb} MB`)
    // the figure shown is the one /ready reports
    const ready = (await (await fetch(`${server.url}/ready`)).json()) as { dataDir: { freeBytes: number } }
    const shownFree = Number(/([\d.]+) MB free/.exec(text)?.[1])
    expect(Math.abs(shownFree - ready.dataDir.freeBytes / (1024 * 1024))).toBeLessThan(1024)
    expect(await page.locator('[data-testid=store-state]').innerText()).toBe('sqlite: answering')
    expect(await page.locator('[data-testid=store-message]').count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('says it in Chinese too', { timeout: 120_000 }, async () => {
    const { page, problems } = await signedIn('zh-CN')
    const message = page.locator('[data-testid=disk-message]')
    await message.waitFor({ timeout: 15_000 })
    expect(await message.innerText()).toContain(`低于最低值 ${minFreeMb} MB`)
    expect(problems).toEqual([])
  })
})
