/**
 * The Upload view in real Chromium against a real linesight with AUTH_REQUIRED=true: the stock
 * tus-js-client of the browser build uploads an image and a zip in parallel with a station token,
 * each job's progress shows, and its results download as CSV. Any console error fails the test.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RESULT_CSV_HEADER } from '../../server/api/csv.ts'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import { makeZip } from '../fixtures/archives.ts'
import { chromiumMissing, collectProblems, launchChromium } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'

const missing = chromiumMissing()
if (missing) console.warn(`uploads-browser skipped: ${missing}`)

describe.skipIf(missing !== null)('the Upload view in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  let token: string
  const samples = loadSamples()
  const problems: string[] = []

  beforeAll(async () => {
    if (clientIsStale(ROOT)) await buildClient(ROOT)
    await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
    tmp = await mkdtemp(join(ROOT, 'test/.tmp/uploads-browser-'))
    await writeFile(join(tmp, 'part.jpg'), samples[0]!.bytes)
    await writeFile(join(tmp, 'batch.zip'), makeZip(samples.map((s) => ({ name: s.file, data: s.bytes }))))
    server = await startServer({ env: { SERVE_CLIENT: 'true', AUTH_REQUIRED: 'true' } })
    const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'station', lines: ['L1'], label: 'upload view' }) })
    token = ((await res.json()) as { secret: string }).secret
    ctx = await launchChromium({ profileDir: join(tmp, 'profile') })
  }, 600_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('uploads an image and a zip in parallel with a token, follows both jobs and downloads the results', async () => {
    const page = await ctx.newPage()
    // without a token the view cannot list the lines; it offers a text field for the line instead
    collectProblems(page, 'upload', problems, [/api\/v1\/lines.*401|status of 401/])
    await page.goto(`${server.url}/upload`)
    await page.getByLabel('Access token').fill(token)
    await page.getByTestId('upload-line').fill('L1')
    await page.getByTestId('upload-files').setInputFiles([join(tmp, 'part.jpg'), join(tmp, 'batch.zip')])
    await page.getByTestId('upload-start').click()

    const items = page.getByTestId('upload-item')
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll('[data-testid=upload-item]')]
      return all.length === 2 && all.every((e) => e.getAttribute('data-phase') === 'done')
    }, undefined, { timeout: 180_000 })
    const jobs = await items.getByTestId('upload-job').allInnerTexts()
    expect(jobs.sort()).toEqual([`Finished · 1 of 1 inspected, 0 failed`, `Finished · ${samples.length} of ${samples.length} inspected, 0 failed`].sort())

    const zipItem = items.filter({ hasText: 'batch.zip' })
    const [download] = await Promise.all([page.waitForEvent('download'), zipItem.getByTestId('upload-csv').click()])
    const [header, ...rows] = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\r\n')
    expect(header).toBe(RESULT_CSV_HEADER.join(','))
    expect(rows).toHaveLength(samples.length)
    expect(problems).toEqual([])
  }, 300_000)
})
