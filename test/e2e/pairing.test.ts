/**
 * Pairing a tablet, in Chromium, against a server with authentication on (the default), in a
 * browser that was never paired: a kiosk without a token says how to pair; the administrator
 * signs in with the sign-in link's fragment, adds a station and gets a code and QR code; the
 * tablet types the code at /pair, lands on its station and streams; a reload keeps it paired
 * (the HttpOnly cookie); revoking it while it streams closes its socket and its screen says why.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, metricValue, uniqueId, writeY4m } from '../helpers/browser.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = chromiumMissing()
if (missing) console.warn(`pairing e2e skipped: ${missing}`)

/** An unpaired tablet asks who it is and is told 401: Chromium logs each refused request. */
const REFUSED = [/status of 401/]

describe.skipIf(missing !== null)('pairing tablets in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const problems: string[] = []
  const line = uniqueId('PAIR')

  beforeAll(async () => {
    tmp = await e2eTempDir('pairing')
    const samples = JSON.parse(await readFile(join(ROOT, 'models/samples/samples.json'), 'utf8')) as { samples: { file: string }[] }
    await writeY4m(samples.samples.map((s) => ({ file: s.file, frames: 2 })), join(tmp, 'camera.y4m'), 2)
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false' } })
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'camera.y4m'), paired: false })
  }, 240_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('shows an unpaired kiosk how to pair instead of a board', async () => {
    const kiosk = await ctx.newPage()
    collectProblems(kiosk, 'kiosk', problems, REFUSED)
    await kiosk.goto(`${server.url}/kiosk?lines=L1`)
    const notice = kiosk.locator('[data-testid=unpaired][data-state=unpaired]')
    await notice.waitFor({ timeout: 30_000 })
    expect(await notice.textContent()).toContain('This tablet is not paired — ask an administrator')
    expect(await kiosk.locator('[data-testid=pair-link]').getAttribute('href')).toBe('/pair')
    expect(await kiosk.locator('[data-testid=kiosk]').count()).toBe(0)
    await kiosk.close()
    expect(problems).toEqual([])
  })

  it('pairs a station by code, streams, stays paired after a reload, and stops saying why once revoked', async () => {
    // the administrator, signed in by the link's fragment, adds the station and gets its code
    const admin = await ctx.newPage()
    collectProblems(admin, 'admin', problems)
    await admin.goto(`${server.url}/admin#token=${server.adminToken}`)
    await admin.locator('[data-testid=devices]').waitFor({ timeout: 30_000 })
    expect(new URL(admin.url()).hash).toBe('')
    await admin.locator('[data-testid=add-station-line]').fill(line)
    await admin.locator('[data-testid=add-station-station]').fill('S1')
    await admin.locator('[data-testid=add-station] button[type=submit]').click()
    await admin.locator('[data-testid=pairing-qr]').waitFor({ timeout: 10_000 })
    expect(await admin.locator('[data-testid=pairing-qr]').getAttribute('src')).toMatch(/^data:image\/png;base64,/)
    const code = (await admin.locator('[data-testid=pairing-code]').textContent())!.trim()
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/)

    // the tablet types it at /pair and lands on its station
    const tablet = await ctx.newPage()
    collectProblems(tablet, 'tablet', problems)
    await tablet.goto(`${server.url}/pair`)
    await tablet.locator('[data-testid=pair-code]').fill(code.toLowerCase())
    await tablet.locator('[data-testid=pair-submit]').click()
    await tablet.waitForURL((u) => u.pathname === '/station' && u.searchParams.get('line') === line && u.searchParams.get('station') === 'S1', { timeout: 30_000 })
    const results = () => tablet.locator('[data-testid=count-results]').textContent().then(Number)
    await tablet.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
    await tablet.waitForFunction(() => Number(document.querySelector('[data-testid=count-results]')?.textContent) >= 2, undefined, { timeout: 120_000 })
    await tablet.locator('[data-testid=verdict]:not([data-verdict=waiting])').waitFor({ timeout: 30_000 })

    // the cookie the pairing set is HttpOnly and SameSite: the page's scripts never see the token
    const cookies = await ctx.cookies(server.url)
    expect(cookies.find((c) => c.name === 'linesight_device')).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(await tablet.evaluate(() => document.cookie)).not.toContain('linesight_device')

    // a reload (as after a browser restart) keeps it paired and streaming
    await tablet.reload()
    await tablet.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
    await tablet.waitForFunction(() => Number(document.querySelector('[data-testid=count-results]')?.textContent) >= 1, undefined, { timeout: 120_000 })
    expect(await tablet.locator('[data-testid=unpaired]').count()).toBe(0)

    // the admin page lists it as paired, with the tablet's browser; revoking it cuts it off
    await admin.reload()
    const row = admin.locator('[data-testid^=device-][data-status=paired]')
    await row.waitFor({ timeout: 30_000 })
    expect(await row.textContent()).toContain('Chrome')
    expect(await results()).toBeGreaterThan(0)
    await row.locator('[data-testid=revoke]').click()
    const notice = tablet.locator('[data-testid=unpaired][data-state=revoked]')
    await notice.waitFor({ timeout: 10_000 })
    expect(await notice.textContent()).toContain('This tablet is no longer paired — ask an administrator')
    expect(await tablet.locator('[data-testid=station]').count()).toBe(0)
    await waitFor(async () => metricValue(await (await server.admin('/metrics')).text(), 'linesight_ws_connections', { role: 'station' }) === 0, {
      timeoutMs: 10_000,
      what: 'the revoked station socket to be closed',
    })
    expect(problems).toEqual([])
  }, 300_000)
})
