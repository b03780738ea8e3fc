/**
 * Station screen display options in a real Chromium against a real linesight process: the
 * full-screen button enters full screen through the Fullscreen API and leaves it (chrome hidden
 * meanwhile), `?fullscreen=1` hides the chrome and enters full screen on the first tap, and the
 * theme toggle switches the page's computed background colour and is remembered across reloads,
 * with `prefers-color-scheme` as the default.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

const missing = chromiumMissing()
if (missing) console.warn(`display e2e skipped: ${missing}`)

/** Counts calls to requestFullscreen/exitFullscreen while letting them through. */
function spyFullscreen(): void {
  const w = window as unknown as { fsCalls: { request: number; exit: number } }
  w.fsCalls = { request: 0, exit: 0 }
  const request = Object.getOwnPropertyDescriptor(Element.prototype, 'requestFullscreen')!.value as (this: Element, o?: FullscreenOptions) => Promise<void>
  Element.prototype.requestFullscreen = function (this: Element, o?: FullscreenOptions) {
    w.fsCalls.request++
    return request.call(this, o)
  }
  const exit = Object.getOwnPropertyDescriptor(Document.prototype, 'exitFullscreen')!.value as (this: Document) => Promise<void>
  Document.prototype.exitFullscreen = function (this: Document) {
    w.fsCalls.exit++
    return exit.call(this)
  }
}
const calls = (page: Page) => page.evaluate(() => (window as unknown as { fsCalls: { request: number; exit: number } }).fsCalls)
const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor)

describe.skipIf(missing)('full screen and theme in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const problems: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('display')
    server = await startServer({ env: { SERVE_CLIENT: 'true' } })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile') })
    await ctx.addInitScript(spyFullscreen)
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('enters full screen from the kiosk button (chrome hidden) and leaves it again', async () => {
    const page = await ctx.newPage()
    collectProblems(page, 'kiosk', problems)
    await page.goto(`${server.url}/kiosk?lines=L1`)
    await page.locator('[data-testid=fullscreen]').waitFor({ timeout: 15_000 })
    expect(await page.locator('[data-testid=app-bar]').count()).toBe(1)
    expect(await page.evaluate(() => document.fullscreenElement)).toBeNull()

    await page.click('[data-testid=fullscreen]')
    await page.waitForFunction(() => document.fullscreenElement === document.documentElement, undefined, { timeout: 5000 })
    expect((await calls(page)).request).toBe(1)
    await page.locator('[data-testid=app-bar]').waitFor({ state: 'detached' })
    expect(await page.getAttribute('[data-testid=fullscreen]', 'aria-pressed')).toBe('true')
    expect(await page.evaluate(() => localStorage.getItem('linesight.fullscreen'))).toBe('1')

    await page.click('[data-testid=fullscreen]')
    await page.waitForFunction(() => document.fullscreenElement === null, undefined, { timeout: 5000 })
    expect((await calls(page)).exit).toBe(1)
    await page.locator('[data-testid=app-bar]').waitFor()
    expect(await page.getAttribute('[data-testid=fullscreen]', 'aria-pressed')).toBe('false')
    expect(await page.evaluate(() => localStorage.getItem('linesight.fullscreen'))).toBeNull()
    expect(problems).toEqual([])
    await page.close()
  })

  it('with ?fullscreen=1 hides the chrome at once and enters full screen on the first tap', async () => {
    const page = await ctx.newPage()
    collectProblems(page, 'kiosk', problems)
    await page.goto(`${server.url}/kiosk?lines=L1&fullscreen=1`)
    await page.locator('[data-testid=kiosk]').waitFor({ timeout: 15_000 })
    expect(await page.locator('[data-testid=app-bar]').count()).toBe(0)
    // no gesture yet: the browser would refuse, so nothing was asked
    expect(await page.evaluate(() => document.fullscreenElement)).toBeNull()
    await page.mouse.click(400, 400)
    await page.waitForFunction(() => document.fullscreenElement !== null, undefined, { timeout: 5000 })
    // the browser's own exit (Escape) forgets the preference and brings the chrome back
    await page.evaluate(() => document.exitFullscreen())
    await page.locator('[data-testid=app-bar]').waitFor()
    expect(await page.evaluate(() => localStorage.getItem('linesight.fullscreen'))).toBeNull()
    expect(problems).toEqual([])
    await page.close()
  })

  it('follows prefers-color-scheme by default, and the toggle switches the theme and is remembered', async () => {
    const page = await ctx.newPage()
    collectProblems(page, 'admin', problems)
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.goto(`${server.url}/admin`)
    await page.evaluate(() => localStorage.removeItem('linesight.theme'))
    await page.reload()
    await page.locator('[data-testid=theme-toggle]').waitFor({ timeout: 15_000 })
    const dark = await background(page)
    expect(dark).toBe('rgb(10, 15, 20)')
    await page.emulateMedia({ colorScheme: 'light' })
    await page.waitForFunction((d) => getComputedStyle(document.body).backgroundColor !== d, dark, { timeout: 5000 })
    const light = await background(page)
    expect(light).toBe('rgb(238, 242, 246)')

    // the operator's choice beats the OS: dark on a light-preferring OS, kept across a reload
    await page.click('[data-testid=theme-toggle]')
    await page.waitForFunction((l) => getComputedStyle(document.body).backgroundColor !== l, light, { timeout: 5000 })
    expect(await background(page)).toBe(dark)
    expect(await page.evaluate(() => localStorage.getItem('linesight.theme'))).toBe('dark')
    await page.reload()
    await page.locator('[data-testid=theme-toggle]').waitFor({ timeout: 15_000 })
    expect(await background(page)).toBe(dark)

    // and on the kiosk: toggled to light, its screen is light too
    await page.goto(`${server.url}/kiosk?lines=L1`)
    await page.locator('[data-testid=kiosk] [data-testid=theme-toggle]').click({ timeout: 15_000 })
    await page.waitForFunction((d) => getComputedStyle(document.body).backgroundColor !== d, dark, { timeout: 5000 })
    expect(await background(page)).toBe(light)
    expect(await page.evaluate(() => localStorage.getItem('linesight.theme'))).toBe('light')
    expect(problems).toEqual([])
    await page.close()
  })
})
