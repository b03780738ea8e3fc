/**
 * A station's first load, as a tablet on the plant's Wi-Fi sees it: a fresh Chromium profile (no
 * HTTP cache, no Cache Storage) opens `/station` and waits until its local inference is ready
 * (runtime WASM and both models downloaded and loaded). Measured twice in one run against one
 * server: as served (Chromium asks for br/gzip, linesight answers with its precompressed copies)
 * and with `Accept-Encoding: identity` (what every station paid before issue 16).
 *
 *   npm run bench:first-load -- [--down-mbps 20] [--rtt-ms 20] [--runs 1] [--json]
 *
 * The link is Chromium's own network emulation (DevTools `Network.emulateNetworkConditions`) on
 * loopback; the figures are bytes on the wire (each response's encoded body and headers, as
 * Chromium counts them, for the page and its workers) and wall-clock times. The run checks its
 * own throttle: if the ready time is below bytes / bandwidth, some requests escaped the emulation
 * and it says so.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { BrowserContext, CDPSession, Page } from 'playwright-core'
import { chromiumMissing, e2eTempDir, launchChromium } from '../test/helpers/browser.ts'
import { startServer, type RunningServer } from '../test/helpers/server.ts'
import { waitBackend } from '../test/helpers/station-page.ts'
import { waitFor } from '../test/helpers/wait.ts'
import { median } from './stats.ts'

export interface FirstLoadRun {
  /** `compressed`: as served; `identity`: the station asks for no content coding. */
  coding: 'compressed' | 'identity'
  requests: number
  /** Bytes on the wire, headers included (Chromium's encodedDataLength summed). */
  bytes: number
  /** The three largest responses: what the bytes are. */
  largest: { path: string; bytes: number; encoding: string }[]
  /** Navigation start to the app shell's DOMContentLoaded. */
  shellMs: number
  /** Navigation start to local inference ready (`[data-testid=backend][data-state=ready]`). */
  readyMs: number
  /** bytes / link bandwidth: the least time the link allows. */
  linkFloorMs: number
}

export interface FirstLoad {
  link: { downMbps: number; upMbps: number; rttMs: number }
  runs: FirstLoadRun[]
  /** Medians over runs, as served and with `Accept-Encoding: identity`. */
  compressed: { bytes: number; readyMs: number }
  identity: { bytes: number; readyMs: number }
  /** identity / compressed, of those medians. */
  bytesRatio: number
  readyRatio: number
}

async function throttle(cdp: CDPSession, link: FirstLoad['link']): Promise<void> {
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: link.rttMs,
    downloadThroughput: (link.downMbps * 1e6) / 8,
    uploadThroughput: (link.upMbps * 1e6) / 8,
  })
}

async function oneLoad(server: RunningServer, tmp: string, i: number, coding: FirstLoadRun['coding'], link: FirstLoad['link'], compressible: string[] = []): Promise<FirstLoadRun> {
  const profileDir = join(tmp, `profile-${coding}-${i}-${Date.now()}`)
  const ctx: BrowserContext = await launchChromium({ profileDir })
  try {
    const page: Page = await ctx.newPage()
    const cdp = await ctx.newCDPSession(page)
    await throttle(cdp, link)
    if (coding === 'identity') await page.setExtraHTTPHeaders({ 'Accept-Encoding': 'identity' })
    const responses: { path: string; bytes: number; encoding: string; vary: string }[] = []
    const pending: Promise<void>[] = []
    const track = (r: import('playwright-core').Response) => {
      pending.push(
        (async () => {
          const s = await r.request().sizes().catch(() => null)
          if (!s) return
          const path = new URL(r.url()).pathname
          const headers = await r.allHeaders().catch(() => ({}) as Record<string, string>)
          responses.push({ path, bytes: s.responseBodySize + s.responseHeadersSize, encoding: headers['content-encoding'] ?? 'identity', vary: headers.vary ?? '' })
        })(),
      )
    }
    page.on('response', track)
    const t0 = Date.now()
    await page.goto(`${server.url}/station?line=FIRSTLOAD&station=S${i}`, { waitUntil: 'domcontentloaded' })
    const shellMs = Date.now() - t0
    await waitBackend(page, { final: false, timeoutMs: 600_000 })
    const readyMs = Date.now() - t0
    await Promise.all(pending)
    const entries = responses.map(({ path, bytes, encoding }) => ({ path, bytes, encoding }))
    compressible.push(...responses.filter((r) => /accept-encoding/i.test(r.vary)).map((r) => r.path))
    const bytes = entries.reduce((a, e) => a + e.bytes, 0)
    return {
      coding,
      requests: entries.length,
      bytes,
      largest: entries.sort((a, b) => b.bytes - a.bytes).slice(0, 3),
      shellMs,
      readyMs,
      linkFloorMs: Math.round((bytes * 8) / (link.downMbps * 1e6) * 1000),
    }
  } finally {
    await ctx.close()
  }
}

export async function measureFirstLoad(o: { link: FirstLoad['link']; runs: number; log?: (s: string) => void }): Promise<FirstLoad> {
  const missing = chromiumMissing()
  if (missing) throw new Error(`first-load benchmark needs Chromium: ${missing}`)
  const tmp = await e2eTempDir('first-load')
  const server = await startServer({ env: { SERVE_CLIENT: 'true' } })
  const runs: FirstLoadRun[] = []
  try {
    // The server compresses a file the first time it is asked for it, in the background, and keeps
    // the copies in its data folder: a load right after a fresh install gets files as they are. A
    // warm-up load asks for every file once; the runs start when every compressible file it
    // fetched comes back as brotli.
    const compressible: string[] = []
    const warm = await oneLoad(server, tmp, 0, 'compressed', o.link, compressible)
    o.log?.(`warm-up: ${warm.requests} requests, ${(warm.bytes / 1e6).toFixed(2)} MB (copies not ready yet), ready ${warm.readyMs} ms; waiting for ${new Set(compressible).size} brotli copies`)
    for (const path of new Set(compressible)) {
      await waitFor(async () => (await server.admin(path, { headers: { 'accept-encoding': 'br' } })).headers.get('content-encoding') === 'br', {
        what: `the brotli copy of ${path}`,
        timeoutMs: 600_000,
      })
    }
    for (let i = 0; i < o.runs; i++) {
      // alternate which coding goes first, so a machine getting busier does not favour one
      const order: FirstLoadRun['coding'][] = i % 2 ? ['identity', 'compressed'] : ['compressed', 'identity']
      for (const coding of order) {
        const r = await oneLoad(server, tmp, i, coding, o.link)
        o.log?.(`${coding}: ${r.requests} requests, ${(r.bytes / 1e6).toFixed(2)} MB, shell ${r.shellMs} ms, ready ${r.readyMs} ms (link floor ${r.linkFloorMs} ms)`)
        runs.push(r)
      }
    }
  } finally {
    await server.stop()
    await rm(tmp, { recursive: true, force: true })
  }
  const of = (c: FirstLoadRun['coding']) => {
    const mine = runs.filter((r) => r.coding === c)
    return { bytes: median(mine.map((r) => r.bytes)), readyMs: median(mine.map((r) => r.readyMs)) }
  }
  const compressed = of('compressed')
  const identity = of('identity')
  return { link: o.link, runs, compressed, identity, bytesRatio: identity.bytes / compressed.bytes, readyRatio: identity.readyMs / compressed.readyMs }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'down-mbps': { type: 'string', default: '20' },
      'up-mbps': { type: 'string', default: '10' },
      'rtt-ms': { type: 'string', default: '20' },
      runs: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  })
  const num = (k: keyof typeof values, min: number, max: number) => {
    const n = Number(values[k])
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${k} must be a number ${min}-${max}`)
    return n
  }
  const result = await measureFirstLoad({
    link: { downMbps: num('down-mbps', 0.5, 10_000), upMbps: num('up-mbps', 0.5, 10_000), rttMs: num('rtt-ms', 0, 2000) },
    runs: num('runs', 1, 10),
    log: values.json ? undefined : (s) => console.log(s),
  })
  console.log(values.json ? JSON.stringify(result, null, 2) : `identity / compressed: bytes ${result.bytesRatio.toFixed(2)}x, ready ${result.readyRatio.toFixed(2)}x`)
}
