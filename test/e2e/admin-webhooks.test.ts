/**
 * The admin page's webhooks section in a real Chromium against a real linesight process: add an
 * endpoint (its secret shown once), see a dead-lettered delivery, re-send it, and a real receiver
 * gets it signed. Any console error or page error fails the test.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../server/storage/sqlite.ts'
import { e2eTempDir, freePort } from '../helpers/browser.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const skip = !existsSync(CHROMIUM)
if (skip) console.warn(`admin-webhooks e2e skipped: no Chromium at ${CHROMIUM}`)

describe.skipIf(skip)('webhooks in the admin page', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const got: { headers: IncomingHttpHeaders; body: string }[] = []
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  let receiverUrl: string

  beforeAll(async () => {
    tmp = await e2eTempDir('webhooks')
    const port = await freePort()
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r))
    receiverUrl = `http://127.0.0.1:${port}/mes`
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false' } })
    ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM, args: FLAGS, viewport: { width: 1280, height: 900 }, locale: 'en-US' })
  }, 300_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    receiver.close()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('adds an endpoint with its secret shown once, and re-sends a dead-lettered delivery', async () => {
    const problems: string[] = []
    const page = await ctx.newPage()
    page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`))
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    await page.goto(`${server.url}/admin`)
    await page.fill('[data-testid=admin-token]', server.adminToken)
    await page.click('[data-testid=sign-in]')
    await page.locator('[data-testid=webhooks]').waitFor({ timeout: 15_000 })

    await page.fill('[data-testid=webhook-url]', receiverUrl)
    await page.click('[data-testid=webhook-add]')
    const secret = (await page.locator('[data-testid=webhook-secret] code').textContent({ timeout: 15_000 }))!.trim()
    expect(secret).toMatch(/^whsec_/)
    await page.locator('[data-testid=webhook]').waitFor()
    const { webhooks } = (await (await server.admin('/api/v1/admin/webhooks')).json()) as { webhooks: { id: string; url: string; events: string[] }[] }
    expect(webhooks).toMatchObject([{ url: receiverUrl, events: ['part.failed'] }])

    // a delivery that used up its retries, as the deliverer leaves one
    const store = openSqliteStore({ dataDir: server.dataDir })
    await store.migrate()
    const payload = JSON.stringify({ type: 'part.failed', timestamp: new Date().toISOString(), data: { partId: 'SN-E2E', line: 'L1', station: 'S1', verdict: 'fail' } })
    await store.webhooks.enqueue({ webhookId: webhooks[0]!.id, messageId: 'part.failed:L1:S1:SN-E2E', event: 'part.failed', payload })
    await store.webhooks.attempted({ webhookId: webhooks[0]!.id, messageId: 'part.failed:L1:S1:SN-E2E' }, { delivered: false, error: 'ECONNREFUSED', nextAt: null })
    await store.close()

    await page.check('[data-testid=webhook-only-dead]')
    await page.locator('[data-testid=webhook-delivery]', { hasText: 'SN-E2E' }).waitFor({ timeout: 15_000 })
    await page.click('[data-testid=webhook-resend]')
    await waitFor(() => got.length === 1, { timeoutMs: 30_000, what: 'the re-sent delivery' })
    expect(got[0]!.body).toBe(payload)
    expect(new Webhook(secret).verify(got[0]!.body, got[0]!.headers as Record<string, string>)).toMatchObject({ data: { partId: 'SN-E2E' } })
    expect(problems).toEqual([])
  }, 180_000)
})
