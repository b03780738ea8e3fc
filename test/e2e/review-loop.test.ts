/**
 * The loop in a real browser: a station streams the scratch sample (Chromium's fake camera), the
 * operator flags a failing verdict, a reviewer on the review page deletes the model's boxes,
 * draws the crack box, changes its class and saves NG; the YOLO export holds that frame with the
 * label at the crack's known normalised coordinates; `npm run models:train` fine-tunes the
 * detector on the zip for one short epoch. Any console or page error fails the test.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Review, ReviewQueueItem } from '../../shared/domain/review.ts'
import { chromiumMissing, collectProblems, e2eTempDir, launchChromium, uniqueId, writeY4m } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'
import { readZip } from '../helpers/zip.ts'

const missing = chromiumMissing()
if (missing) console.warn(`review-loop e2e skipped: ${missing}`)
const torch = existsSync('/usr/lib/python3/dist-packages/torch')
if (!torch) console.warn('review-loop e2e: python3-torch is not installed (apt-get install -y python3-torch python3-onnx); the models:train step will fail')

const scratch = loadSamples().find((s) => s.file === 'scratch.jpg')!
const CRACK = scratch.boxes.find((b) => b.class === 'crack')!.box

/** Where an image pixel of the review canvas is on the screen. */
async function screenPoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  return page.locator('[data-testid=review-canvas]').evaluate(
    (svg, p) => {
      const m = (svg as SVGSVGElement).getScreenCTM()!
      const s = new DOMPoint(p.x, p.y).matrixTransform(m)
      return { x: s.x, y: s.y }
    },
    { x, y },
  )
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
    let out = ''
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr.on('data', (c: Buffer) => (out += c.toString()))
    p.on('close', (code) => resolve({ code, out }))
  })
}

describe.skipIf(missing !== null)('review loop in Chromium', () => {
  let tmp: string
  let server: RunningServer
  let ctx: BrowserContext
  const line = uniqueId('RV')
  const problems: string[] = []

  beforeAll(async () => {
    tmp = await e2eTempDir('review')
    await writeY4m([{ file: 'scratch.jpg', frames: 4 }], join(tmp, 'camera.y4m'), 2)
    server = await startServer({ env: { SERVE_CLIENT: 'true', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1' } })
    // every frame to the server, none held back: this test is about the frames, not the prefilter
    const settings = (await (await server.admin(`/api/v1/lines/${line}/settings`)).json()) as { prefilter: Record<string, unknown> }
    const put = await server.admin(`/api/v1/lines/${line}/settings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policy: 'server-only', captureFps: 2, prefilter: { ...settings.prefilter, enabled: false } }),
    })
    expect(put.status).toBe(200)
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'camera.y4m') })
  }, 300_000)

  afterAll(async () => {
    await ctx?.close()
    await server?.stop()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('takes an operator flag through review to a dataset label and a fine-tuning epoch', async () => {
    // --- the operator flags a failing verdict at the station
    const station = await ctx.newPage()
    collectProblems(station, 'station', problems)
    await station.goto(`${server.url}/station?line=${line}&station=S1`)
    await station.locator('[data-testid=flag][data-state=idle]').waitFor({ timeout: 120_000 })
    await station.locator('[data-testid=pause]').click()
    const flagged = await waitFor(
      async () => {
        const button = station.locator('[data-testid=flag]')
        if ((await button.getAttribute('data-state')) === 'idle') await button.click()
        const q = (await (await server.admin(`/api/v1/review?line=${line}&status=open`)).json()) as { items: ReviewQueueItem[] }
        return q.items.find((i) => i.reasons.includes('flag'))
      },
      { timeoutMs: 60_000, what: 'a flagged frame in the queue' },
    )
    const record = (await (await server.admin(`/api/v1/results/${flagged.frameId}`)).json()) as InspectionResult
    expect(record.verdict).toBe('fail')
    expect([record.width, record.height]).toEqual([scratch.width, scratch.height])

    // --- the reviewer corrects it on the review page
    const review = await ctx.newPage()
    collectProblems(review, 'review', problems)
    await review.goto(`${server.url}/review`)
    await review.locator('[data-testid=admin-token]').fill(server.adminToken)
    await review.locator('[data-testid=sign-in]').click()
    await review.locator('[data-testid=review-line]').fill(line)
    await review.locator('[data-testid=review-load]').click()
    await review.locator(`[data-testid=review-item][data-frame="${flagged.frameId}"]`).click()
    await review.locator('[data-testid=review-canvas] image').waitFor({ timeout: 30_000 })
    const rows = review.locator('[data-testid=review-box-row]')
    expect(await rows.count()).toBe(record.detections.length)
    while ((await rows.count()) > 0) await review.locator('[data-testid=review-box-delete]').first().click()
    // drawn as a scratch, then changed to crack in its row
    await review.locator('[data-testid=review-draw-class]').selectOption('scratch')
    const a = await screenPoint(review, CRACK[0], CRACK[1])
    const b = await screenPoint(review, CRACK[2], CRACK[3])
    await review.mouse.move(a.x, a.y)
    await review.mouse.down()
    await review.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2)
    await review.mouse.move(b.x, b.y)
    await review.mouse.up()
    expect(await rows.count()).toBe(1)
    await review.locator('[data-testid=review-box-class]').selectOption('crack')
    await review.locator('[data-testid=review-ok]').click()
    await review.keyboard.press('n') // back to NG, from the keyboard
    expect(await review.locator('[data-testid=review-ng]').getAttribute('aria-pressed')).toBe('true')
    await review.locator('[data-testid=review-save]').click()
    await review.locator('[data-testid=review-saved], [data-testid=review-error]').first().waitFor({ timeout: 30_000 })
    expect(await review.locator('[data-testid=review-error]').allTextContents()).toEqual([])

    const history = (await (await server.admin(`/api/v1/results/${flagged.frameId}/reviews`)).json()) as { items: Review[] }
    expect(history.items).toHaveLength(1)
    const saved = history.items[0]!
    expect(saved.verdict).toBe('fail')
    expect(saved.detections.map((d) => d.class)).toEqual(['crack'])
    // the drag lands within a screen pixel of the corners (the canvas is drawn near 1:1)
    saved.detections[0]!.box.forEach((v, i) => expect(Math.abs(v - CRACK[i]!), `box ${saved.detections[0]!.box.join(',')}`).toBeLessThan(2))

    // --- the export holds that frame with the corrected label
    const res = await server.admin(`/api/v1/datasets/yolo?line=${line}`)
    expect(res.status).toBe(200)
    const zipBytes = new Uint8Array(await res.arrayBuffer())
    const files = await readZip(zipBytes)
    const labelName = [...files.keys()].find((k) => k.startsWith('labels/') && k.endsWith(`/${flagged.frameId}.txt`))
    expect(labelName, [...files.keys()].join(', ')).toBeDefined()
    const [cls, cx, cy, w, h] = files.get(labelName!)!.toString().trim().split(' ').map(Number)
    expect(cls).toBe(4) // crack in models/detector/manifest.json
    const tolerance = 2 / scratch.width
    expect(Math.abs(cx! - (CRACK[0] + CRACK[2]) / 2 / scratch.width)).toBeLessThan(tolerance)
    expect(Math.abs(cy! - (CRACK[1] + CRACK[3]) / 2 / scratch.height)).toBeLessThan(tolerance)
    expect(Math.abs(w! - (CRACK[2] - CRACK[0]) / scratch.width)).toBeLessThan(tolerance)
    expect(Math.abs(h! - (CRACK[3] - CRACK[1]) / scratch.height)).toBeLessThan(tolerance)

    // --- models:train fine-tunes the detector on it for one short epoch
    const zipPath = join(tmp, 'dataset.zip')
    await writeFile(zipPath, zipBytes)
    const out = join(tmp, 'detector-ft')
    const trained = await run('bash', ['models/tools/train.sh', zipPath, '--out', out, '--epochs', '1', '--batch', '4'])
    expect(trained.code, trained.out).toBe(0)
    expect(trained.out).toMatch(/epoch 1\/1: \d+ steps/)
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { name: string; classes: string[]; training: { trainImages: number } }
    expect(manifest).toMatchObject({ name: 'detector-ft', classes: ['part', 'scratch', 'dent', 'stain', 'crack'] })
    expect(manifest.training.trainImages).toBeGreaterThanOrEqual(1)
    expect(existsSync(join(out, 'detector.onnx'))).toBe(true)
    expect(problems).toEqual([])
  }, 600_000)
})
