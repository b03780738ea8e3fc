/**
 * Capture -> verdict at a station, as its operator sees it, and what the station sends for it:
 * the real station app in Chromium (its fake camera playing the sample images, 640x480) streams
 * to a linesight server that infers every frame (line policy `server-only`, prefilter off, so
 * nothing is skipped or inferred in the browser). The page's own clock times each result from the
 * frame's capture (`capturedAt`, the grabber's timestamp) to the result message's arrival on its
 * socket, before the app draws it; the socket's binary sends are counted by envelope kind.
 *
 * Two arms on one server, alternating round by round so a machine getting busier favours neither:
 *  - `modelSize`: as served; the station resizes each frame to the model's input and the server
 *    asks for a failing frame's original afterwards (evidence on demand, `failing` by default);
 *  - `full`: the `uplink` field of `welcome` and `settings` removed before the app reads them, so
 *    the station sends whole camera frames (version 1 envelopes), as every station did before
 *    issue 16 and as an older one still does.
 *
 *   npm run bench:station-latency -- [--rounds 2] [--seconds 15] [--fps 5] [--json]
 *
 * Wall-clock figures of one browser and one server sharing this machine's cores: compare the arms
 * of one run, not runs on different machines. Headless Chromium here has no GPU, so the station's
 * resize and JPEG encode run on the CPU.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { BrowserContext, Page } from 'playwright-core'
import { chromiumMissing, e2eTempDir, launchChromium, writeY4m } from '../test/helpers/browser.ts'
import { loadSamples } from '../test/helpers/samples.ts'
import { startServer, type RunningServer } from '../test/helpers/server.ts'
import { waitBackend } from '../test/helpers/station-page.ts'
import { EnvelopeKind } from '../shared/protocol/envelope.ts'
import { latencyOf, median } from './stats.ts'

export type StationArm = 'modelSize' | 'full'

export interface StationLatencyRun {
  arm: StationArm
  round: number
  /** Results timed in the window. */
  results: number
  /** Results per second of the window. */
  fps: number
  /** Capture to the result's arrival at the station, ms. */
  p50Ms: number
  p95Ms: number
  /** Frame envelopes' bytes (header and image) per frame sent in the window. */
  frameBytes: number
  /** Evidence envelopes' bytes (originals the server asked for) per frame sent in the window. */
  evidenceBytes: number
  /** Share of the timed results that failed: evidence (`failing`, the default) follows it. */
  failingShare: number
}

export interface StationLatencyArm {
  /** Medians over rounds. */
  p50Ms: number
  p95Ms: number
  fps: number
  frameBytes: number
  /** Frame and evidence bytes together, per frame: all the station uploads. */
  uplinkBytes: number
  failingShare: number
}

export interface StationLatency {
  captureFps: number
  seconds: number
  camera: { width: number; height: number }
  runs: StationLatencyRun[]
  modelSize: StationLatencyArm
  full: StationLatencyArm
  /** full / modelSize, of the medians. */
  p50Ratio: number
  uplinkBytesRatio: number
}

/** What the page collects, kept on `window.__stationLatency` by the init script. */
interface Collected {
  latencies: number[]
  failing: number
  frames: number
  frameBytes: number
  evidenceBytes: number
}

/**
 * Runs in the page before the app: wraps WebSocket so every result's capture -> arrival time and
 * every binary send are recorded, and (in the `full` arm) drops `uplink` from what the app reads.
 * JavaScript source, not a function: tsx would add its `__name` helper to a function's text, and
 * the page has none.
 */
function instrument(stripUplink: boolean): string {
  return `(() => {
  const stripUplink = ${JSON.stringify(stripUplink)}
  const collected = { latencies: [], failing: 0, frames: 0, frameBytes: 0, evidenceBytes: 0 }
  window.__stationLatency = collected
  const Native = window.WebSocket
  class Instrumented extends Native {
    #app = null
    constructor(url, protocols) {
      super(url, protocols)
      super.addEventListener('message', (ev) => {
        let data = ev.data
        if (typeof data === 'string' && data.startsWith('{"type":"')) {
          const type = data.slice(9, data.indexOf('"', 9))
          if (type === 'result') {
            const m = JSON.parse(data)
            if (m.result.inferredAt !== 'browser') {
              collected.latencies.push(Date.now() - m.result.capturedAt)
              if (m.result.verdict === 'fail') collected.failing++
            }
          } else if (stripUplink && (type === 'welcome' || type === 'settings')) {
            const m = JSON.parse(data)
            delete m.uplink
            data = JSON.stringify(m)
          }
        }
        if (this.#app) this.#app.call(this, data === ev.data ? ev : new MessageEvent('message', { data }))
      })
    }
    // the app listens through onmessage (client/uplink/socket.ts): it gets the event above
    get onmessage() { return this.#app }
    set onmessage(fn) { this.#app = fn }
    send(data) {
      if (typeof data !== 'string' && !(data instanceof Blob)) {
        const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data)
        // byte 3 of an envelope is its kind (shared/protocol/envelope.ts)
        if (bytes[3] === ${EnvelopeKind.frame}) {
          collected.frames++
          collected.frameBytes += bytes.byteLength
        } else if (bytes[3] === ${EnvelopeKind.evidence}) collected.evidenceBytes += bytes.byteLength
      }
      super.send(data)
    }
  }
  window.WebSocket = Instrumented
})()`
}

async function collected(page: Page): Promise<Collected> {
  return page.evaluate('(({ latencies, ...counts }) => ({ latencies: [...latencies], ...counts }))(window.__stationLatency)') as Promise<Collected>
}

async function oneRun(ctx: BrowserContext, server: RunningServer, line: string, arm: StationArm, round: number, seconds: number, log?: (s: string) => void): Promise<StationLatencyRun> {
  const page = await ctx.newPage()
  page.on('pageerror', (err) => log?.(`station page error: ${err.message}`))
  try {
    await page.addInitScript({ content: instrument(arm === 'full') })
    await page.goto(`${server.url}/station?line=${line}&station=S-${arm}-${round}`)
    await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
    // the station measures its local backends once it has loaded them: not while timing
    await waitBackend(page, { final: true, timeoutMs: 600_000 })
    await page.waitForFunction('window.__stationLatency.latencies.length >= 5', undefined, { timeout: 60_000 })
    const start = await collected(page)
    const t0 = Date.now()
    await page.waitForTimeout(seconds * 1000)
    const end = await collected(page)
    const windowS = (Date.now() - t0) / 1000
    const latencies = end.latencies.slice(start.latencies.length)
    const frames = Math.max(1, end.frames - start.frames)
    if (latencies.length === 0) throw new Error(`no result reached the ${arm} station in ${seconds} s`)
    const l = latencyOf(latencies)
    return {
      arm,
      round,
      results: latencies.length,
      fps: latencies.length / windowS,
      p50Ms: l.p50,
      p95Ms: l.p95,
      frameBytes: (end.frameBytes - start.frameBytes) / frames,
      evidenceBytes: (end.evidenceBytes - start.evidenceBytes) / frames,
      failingShare: (end.failing - start.failing) / latencies.length,
    }
  } finally {
    await page.close()
  }
}

export async function measureStationLatency(o: { rounds: number; seconds: number; captureFps: number; log?: (s: string) => void }): Promise<StationLatency> {
  const missing = chromiumMissing()
  if (missing) throw new Error(`station latency benchmark needs Chromium: ${missing}`)
  const tmp = await e2eTempDir('station-latency')
  const server = await startServer({ env: { SERVE_CLIENT: 'true' } })
  const line = 'BENCH-STATION'
  const runs: StationLatencyRun[] = []
  let ctx: BrowserContext | undefined
  try {
    const settings = (await (await server.admin(`/api/v1/lines/${line}/settings`)).json()) as { prefilter: Record<string, unknown> }
    const put = await server.admin(`/api/v1/lines/${line}/settings`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policy: 'server-only', prefilter: { ...settings.prefilter, enabled: false }, captureFps: o.captureFps }),
    })
    if (put.status !== 200) throw new Error(`PUT line settings answered ${put.status}: ${await put.text()}`)
    // each sample in view for a second, as parts passing a camera
    const camera = await writeY4m(loadSamples().map((s) => ({ file: s.file, frames: 5 })), join(tmp, 'camera.y4m'), 5)
    ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'camera.y4m') })
    for (let round = 0; round < o.rounds; round++) {
      const order: StationArm[] = round % 2 ? ['full', 'modelSize'] : ['modelSize', 'full']
      for (const arm of order) {
        const r = await oneRun(ctx, server, line, arm, round, o.seconds, o.log)
        o.log?.(`${arm}: ${r.results} results (${r.fps.toFixed(1)}/s), capture -> verdict p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms; ${(r.frameBytes / 1000).toFixed(1)} KB a frame + ${(r.evidenceBytes / 1000).toFixed(1)} KB of evidence (${(100 * r.failingShare).toFixed(0)} % failing)`)
        runs.push(r)
      }
    }
    const of = (arm: StationArm): StationLatencyArm => {
      const mine = runs.filter((r) => r.arm === arm)
      const med = (f: (r: StationLatencyRun) => number) => median(mine.map(f))
      return { p50Ms: med((r) => r.p50Ms), p95Ms: med((r) => r.p95Ms), fps: med((r) => r.fps), frameBytes: med((r) => r.frameBytes), uplinkBytes: med((r) => r.frameBytes + r.evidenceBytes), failingShare: med((r) => r.failingShare) }
    }
    const modelSize = of('modelSize')
    const full = of('full')
    return { captureFps: o.captureFps, seconds: o.seconds, camera: { width: camera.width, height: camera.height }, runs, modelSize, full, p50Ratio: full.p50Ms / modelSize.p50Ms, uplinkBytesRatio: full.uplinkBytes / modelSize.uplinkBytes }
  } finally {
    await ctx?.close()
    await server.stop()
    await rm(tmp, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '15' },
      fps: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  })
  const num = (k: 'rounds' | 'seconds' | 'fps', min: number, max: number) => {
    const n = Number(values[k])
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${k} must be a number ${min}-${max}`)
    return n
  }
  const r = await measureStationLatency({ rounds: num('rounds', 1, 10), seconds: num('seconds', 3, 600), captureFps: num('fps', 0.2, 60), log: values.json ? undefined : (s) => console.log(s) })
  console.log(
    values.json
      ? JSON.stringify(r, null, 2)
      : `capture -> verdict p50: model-size ${r.modelSize.p50Ms.toFixed(0)} ms, full frames ${r.full.p50Ms.toFixed(0)} ms (full / model-size ${r.p50Ratio.toFixed(2)}); uplink per frame ${(r.modelSize.uplinkBytes / 1000).toFixed(1)} KB against ${(r.full.uplinkBytes / 1000).toFixed(1)} KB (${r.uplinkBytesRatio.toFixed(2)}x)`,
  )
}
