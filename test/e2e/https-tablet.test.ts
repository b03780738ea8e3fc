/**
 * As a tablet on the plant network sees it: the station page opened over HTTPS by a host name that
 * is not localhost (Chromium maps `line1.plant.test` to 127.0.0.1 with --host-resolver-rules), with
 * the self-signed certificate the server generated on its first start. The page is a secure
 * context, so the camera works, and its frames come back as results.
 *
 * Chromium is told to trust that one certificate's key (--ignore-certificate-errors-spki-list: what
 * a tablet that installed cert.pem does; unlike accepting any certificate, it lets the service
 * worker register too). That the certificate is one a tablet *can* trust for that name is checked
 * separately with Node's TLS client, which verifies it and the host name against cert.pem.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from 'node:tls'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, writeY4m } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

const HOST = 'line1.plant.test'
const missing = chromiumMissing()
if (missing) console.warn(`https-tablet e2e skipped: ${missing}`)

describe.skipIf(missing !== null)('a tablet opening the station over HTTPS by host name', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const problems: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('https-tablet')
    await writeY4m([{ file: 'dent.jpg', frames: 2 }, { file: 'clean-part.jpg', frames: 2 }], join(tmp, 'camera.y4m'), 2)
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'true', TLS_HOSTNAMES: HOST } })
    expect(server.httpsPort).toBeGreaterThan(0)
    // every frame to the server, none held back by the prefilter: this test is about the transport
    const settings = (await (await server.admin(`/api/v1/lines/L-TLS/settings`)).json()) as { prefilter: Record<string, unknown> }
    const put = await server.admin('/api/v1/lines/L-TLS/settings', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policy: 'server-only', prefilter: { ...settings.prefilter, enabled: false } }),
    })
    expect(put.status).toBe(200)
    const cert = new X509Certificate(await readFile(join(server.dataDir, 'tls', 'cert.pem')))
    const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64')
    ctx = await launchChromium({
      profileDir: join(tmp, 'profile'),
      camera: join(tmp, 'camera.y4m'),
      args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
    })
  })

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('serves a certificate valid for the host name, verifiable against the generated cert.pem', async () => {
    const ca = await readFile(join(server.dataDir, 'tls', 'cert.pem'))
    const verified = await new Promise<{ authorized: boolean; error?: string }>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.httpsPort!, servername: HOST, ca, rejectUnauthorized: false }, () => {
        const error = socket.authorizationError ? String(socket.authorizationError) : undefined
        resolve({ authorized: socket.authorized, ...(error ? { error } : {}) })
        socket.end()
      })
      socket.once('error', reject)
    })
    expect(verified).toEqual({ authorized: true })
  })

  it('is a secure context with a camera, and the camera frames come back as results', async () => {
    const page = await ctx.newPage()
    collectProblems(page, 'station', problems)
    await page.goto(`https://${HOST}:${server.httpsPort}/station?line=L-TLS&station=TAB-1`)
    expect(await page.evaluate(() => [window.isSecureContext, location.protocol, typeof navigator.mediaDevices?.getUserMedia])).toEqual([true, 'https:', 'function'])
    await page.locator('.stage[data-source=camera]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 30_000 })
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=count-results]')?.textContent) >= 3, undefined, { timeout: 120_000 })
    expect(problems).toEqual([])
    const stored = (await (await server.admin(`/api/v1/results?line=L-TLS&station=TAB-1&limit=10`)).json()) as { items: { source?: string }[] }
    expect(stored.items.length).toBeGreaterThanOrEqual(3)
    expect(stored.items.every((r) => r.source === 'ws')).toBe(true)
  })
})
