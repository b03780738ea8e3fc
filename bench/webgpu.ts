/**
 * Prefilter and detector latency in the browser, WebGPU against WASM, measured by the station's own
 * inference worker (the same warm-up, timed runs and median the station uses to choose).
 *
 *   npx tsx bench/webgpu.ts [--url http://host:8080] [--chromium /usr/bin/chromium]
 *                                    [--gpu] [--flag=--use-angle=vulkan ...] [--repeat 3]
 *
 * Without --url it starts a linesight server of its own. --gpu drops --disable-gpu so Chromium
 * may use a real GPU; on a machine without one WebGPU is SwiftShader (software). Each repeat uses
 * a fresh profile, so every model and shader is compiled from scratch. The station is paused at
 * once, so no camera traffic competes with the measurement. See docs/browser-inference.md.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_FLAGS } from '../test/helpers/browser.ts'
import { startServer, type RunningServer } from '../test/helpers/server.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    chromium: { type: 'string', default: CHROMIUM },
    gpu: { type: 'boolean', default: false },
    flag: { type: 'string', multiple: true, default: [] },
    repeat: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '600' },
  },
})

interface Row {
  ep: string
  ok: boolean
  prefilterMs: number | null
  detectorMs: number | null
  prefilterWarmupMs: number | null
  detectorWarmupMs: number | null
  runs: number | null
  setupMs: number | null
  adapter: string
  error: string
}

const fmt = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0))

async function measureOnce(baseUrl: string, run: number): Promise<{ chosen: string; rows: Row[] }> {
  const profile = await mkdtemp(join(tmpdir(), 'linesight-bench-'))
  const flags = [...CHROMIUM_FLAGS.filter((f) => !(values.gpu && f === '--disable-gpu')), ...values.flag!, '--use-fake-device-for-media-stream']
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: values.chromium!, args: flags, permissions: ['camera'], viewport: { width: 1280, height: 800 } })
  try {
    const page = await ctx.newPage()
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`))
    await page.goto(`${baseUrl}/station?line=BENCH&station=B${run}`)
    await page.locator('[data-testid=pause]').click()
    await page.locator('[data-testid=backend][data-state=ready][data-measuring=false], [data-testid=backend][data-state=unavailable][data-measuring=false], [data-testid=backend][data-state=failed]').waitFor({ timeout: Number(values.timeout) * 1000 })
    const chosen = (await page.locator('[data-testid=backend]').getAttribute('data-ep')) ?? ''
    // plain data out of the page (tsx would wrap named helpers in code that only exists in Node)
    const raw = await page.locator('[data-testid^=candidate-]').evaluateAll((els) =>
      els.map((el) => ({ d: { ...(el as HTMLElement).dataset }, note: el.nextElementSibling?.classList.contains('note') ? (el.nextElementSibling.textContent ?? '').trim() : '' })),
    )
    const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v))
    const rows: Row[] = raw.map(({ d, note }) => ({
      ep: (d.testid ?? '').replace('candidate-', ''),
      ok: d.ok === 'true',
      prefilterMs: num(d.prefilterMs),
      detectorMs: num(d.detectorMs),
      prefilterWarmupMs: num(d.prefilterWarmupMs),
      detectorWarmupMs: num(d.detectorWarmupMs),
      runs: null,
      setupMs: num(d.setupMs),
      adapter: d.adapter ?? '',
      error: d.ok === 'true' ? '' : note,
    }))
    const runs = await page.locator('[data-testid^=candidate-] td:nth-child(4)').allTextContents()
    rows.forEach((r, i) => (r.runs = Number(runs[i]) || null))
    return { chosen, rows }
  } finally {
    await ctx.close()
    await rm(profile, { recursive: true, force: true })
  }
}

let server: RunningServer | undefined
const baseUrl = values.url ?? (server = await startServer({ env: { SERVE_CLIENT: 'true' } })).url
try {
  const browser = await chromium.launch({ executablePath: values.chromium!, args: ['--headless', '--no-sandbox'] })
  const version = browser.version()
  await browser.close()
  console.log(`chromium ${version} · ${values.gpu ? 'GPU allowed' : '--disable-gpu'} · ${baseUrl}`)
  console.log('run  ep      ok  prefilter ms  detector ms  runs  prefilter warm-up ms  detector warm-up ms  setup s  adapter / error')
  for (let i = 1; i <= Number(values.repeat); i++) {
    const { chosen, rows } = await measureOnce(baseUrl, i)
    for (const r of rows) {
      console.log(
        [
          String(i).padEnd(4),
          (r.ep + (r.ep === chosen ? '*' : '')).padEnd(7),
          (r.ok ? 'yes' : 'no').padEnd(3),
          fmt(r.prefilterMs).padStart(12),
          fmt(r.detectorMs).padStart(12),
          String(r.runs ?? '-').padStart(5),
          fmt(r.prefilterWarmupMs).padStart(21),
          fmt(r.detectorWarmupMs).padStart(20),
          (r.setupMs === null ? '-' : (r.setupMs / 1000).toFixed(1)).padStart(8),
          ` ${r.adapter || r.error}`,
        ].join(' '),
      )
    }
  }
  console.log('* = chosen by the station (lowest prefilter + detector)')
} finally {
  await server?.stop()
}
