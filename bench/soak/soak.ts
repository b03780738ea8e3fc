/**
 * The soak: one all-in-one linesight process on loopback, kept at a steady load for N minutes,
 * watched for what grows. Load: protocol-level stations (test/helpers/station-client.ts), a
 * station page in Chromium streaming the fake camera, a kiosk page and protocol kiosks, and
 * HTTP detect calls. Every `sampleSeconds` it reads the server's RSS, heap (its /metrics) and open
 * file descriptors (/proc), and each page's JS heap and DOM node count (DevTools protocol,
 * Performance.getMetrics, right after HeapProfiler.collectGarbage). After the warm-up the slopes are fitted by least squares.
 *
 * Frames: every frame a protocol station sent and the server accepted must have exactly one
 * record (`lost`: accepted, no record; `duplicated`: more than one record); a frame answered
 * `busy` was refused, the station was told, and is counted apart. The browser station's records
 * are checked for duplicates and its outbox must be empty at the end.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, CDPSession, Page } from 'playwright-core'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import { chromiumMissing, launchChromium, writeY4m } from '../../test/helpers/browser.ts'
import { metricValue } from '../../test/helpers/metrics.ts'
import { loadSamples } from '../../test/helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../../test/helpers/server.ts'
import { KioskClient, StationClient } from '../../test/helpers/station-client.ts'
import { outboxPending, recordedResults } from '../../test/helpers/station-page.ts'
import { waitFor } from '../../test/helpers/wait.ts'

export interface SoakOptions {
  minutes: number
  /** Protocol stations, each at `stationFps`. @default 2 */
  stations?: number
  stationFps?: number
  /** Protocol kiosks (all lines). @default 2 */
  kiosks?: number
  /** HTTP detect calls per second. @default 1 */
  detectFps?: number
  /** Open a station and a kiosk page in Chromium. @default true where Chromium is installed */
  browser?: boolean
  /** Share of the run before slopes are measured. @default 0.25 */
  warmupShare?: number
  sampleSeconds?: number
  /** Extra environment for the server process (e.g. MALLOC_ARENA_MAX), over test/helpers/server.ts's. */
  serverEnv?: Record<string, string>
  log?: (line: string) => void
}

export interface Memory {
  startMb: number
  endMb: number
  /** MB per minute after warm-up (least squares). */
  slopeMbPerMin: number
}

export interface SoakReport {
  minutes: number
  frames: { sent: number; recorded: number; lost: number; duplicated: number; busy: number; rejected: number }
  browserStation: { recorded: number; duplicated: number; outboxPending: number } | null
  /** busy: 429/503, the server refusing while overloaded (said so, nothing lost); failed: anything else. */
  http: { sent: number; ok: number; busy: number; failed: number }
  memory: Record<string, Memory>
  domNodes: Record<string, { start: number; end: number; slopePerMin: number }>
  latencyP99Ms: { first: number; last: number }
  fileDescriptors: { start: number; end: number; slopePerMin: number }
  samples: number
}

interface Sample {
  t: number
  values: Record<string, number>
}

const MB = 1024 * 1024

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined)
  const stations = o.stations ?? 2
  const stationFps = o.stationFps ?? 2
  const kiosks = o.kiosks ?? 2
  const detectFps = o.detectFps ?? 1
  const browser = (o.browser ?? true) && chromiumMissing() === null
  const sampleMs = (o.sampleSeconds ?? 10) * 1000
  const durationMs = o.minutes * 60_000
  const warmupMs = durationMs * (o.warmupShare ?? 0.25)
  const samples = loadSamples()

  await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
  const tmp = await mkdtemp(join(ROOT, 'test/.tmp/soak-'))
  let server: RunningServer | undefined
  let ctx: BrowserContext | undefined
  const clients: { close(): Promise<void> }[] = []
  try {
    if (browser && clientIsStale(ROOT)) await buildClient(ROOT)
    server = await startServer({ env: { SERVE_CLIENT: browser ? 'true' : 'false', ...o.serverEnv } })
    const srv = server
    const pid = srv.proc.pid!
    for (const line of ['SOAK', 'SOAKB']) {
      const put = await srv.admin(`/api/v1/lines/${line}/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ policy: 'server-only' }) })
      if (!put.ok) throw new Error(`PUT ${line} settings: ${put.status} ${await put.text()}`)
    }

    const pages: { name: string; page: Page; cdp: CDPSession }[] = []
    if (browser) {
      await writeY4m(samples.map((s) => ({ file: s.file, frames: 2 })), join(tmp, 'camera.y4m'), 2)
      ctx = await launchChromium({ profileDir: join(tmp, 'profile'), camera: join(tmp, 'camera.y4m') })
      const kioskPage = await ctx.newPage()
      await kioskPage.goto(`${srv.url}/kiosk?lines=SOAK,SOAKB`)
      await kioskPage.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
      const stationPage = await ctx.newPage()
      await stationPage.goto(`${srv.url}/station?line=SOAKB&station=B1`)
      await stationPage.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 60_000 })
      for (const [name, page] of [['kiosk-page', kioskPage], ['station-page', stationPage]] as const) {
        const cdp = await ctx.newCDPSession(page)
        await cdp.send('Performance.enable')
        pages.push({ name, page, cdp })
      }
    }

    const sts = await Promise.all(Array.from({ length: stations }, (_, i) => StationClient.connect(srv.url, { line: 'SOAK', station: `P${i + 1}` })))
    clients.push(...sts)
    for (let i = 0; i < kiosks; i++) clients.push(await KioskClient.connect(srv.url, ['SOAK', 'SOAKB']))

    const sentAt = new Map<string, number>()
    const latencies: { t: number; ms: number }[] = []
    const start = Date.now()
    let stop = false
    let seq = 0
    const http = { sent: 0, ok: 0, busy: 0, failed: 0 }

    const stationLoops = sts.map(async (st) => {
      const every = 1000 / stationFps
      let next = Date.now()
      while (!stop) {
        const s = samples[seq++ % samples.length]!
        const frameId = `${st.station}-${seq}`
        sentAt.set(frameId, Date.now())
        st.send({ frameId, bytes: s.bytes, width: s.width, height: s.height })
        next += every
        await delay(Math.max(0, next - Date.now()))
      }
    })
    // results are looked for every 20 ms among the frames still waiting: latency to that grain
    const watcher = setInterval(() => {
      const now = Date.now()
      for (const [id, at] of sentAt) {
        const st = sts[Number(/^P(\d+)-/.exec(id)![1]) - 1]!
        if (!st.results.has(id) && st.ackStatus(id) !== 'busy' && st.ackStatus(id) !== 'rejected') continue
        sentAt.delete(id)
        if (st.results.has(id)) latencies.push({ t: at - start, ms: now - at })
      }
    }, 20)
    const detectLoop = (async () => {
      if (detectFps <= 0) return
      const every = 1000 / detectFps
      let next = Date.now()
      let k = 0
      while (!stop) {
        const s = samples[k++ % samples.length]!
        http.sent++
        const res = await srv.admin('/api/v1/detect?line=SOAKH&station=H1', { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(s.bytes) }).catch(() => undefined)
        if (res?.ok) http.ok++
        else if (res?.status === 429 || res?.status === 503) http.busy++
        else http.failed++
        await res?.arrayBuffer().catch(() => undefined)
        next += every
        await delay(Math.max(0, next - Date.now()))
      }
    })()

    const series: Sample[] = []
    const sample = async () => {
      const values: Record<string, number> = {}
      // RssAnon is what malloc holds; RssFile the mapped files (code, SQLite's -shm)
      const rss = await rssKb(pid)
      values['server-rss'] = rss.total / 1024
      values['server-rss-anon'] = rss.anon / 1024
      values['server-rss-file'] = rss.file / 1024
      values.fds = (await readdir(`/proc/${pid}/fd`)).length
      const metrics = await (await srv.admin('/metrics')).text()
      values['server-heap'] = metricValue(metrics, 'nodejs_heap_size_used_bytes') / MB
      // Buffers and typed arrays live outside the V8 heap, in malloc: held frames would grow this
      values['server-external'] = metricValue(metrics, 'nodejs_external_memory_bytes') / MB
      for (const p of pages) {
        // detached nodes and dead objects count until a collection: collect first, so growth is what is kept
        await p.cdp.send('HeapProfiler.collectGarbage')
        const { metrics: m } = (await p.cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }
        values[p.name] = (m.find((x) => x.name === 'JSHeapUsedSize')?.value ?? 0) / MB
        values[`${p.name}-dom`] = m.find((x) => x.name === 'Nodes')?.value ?? 0
      }
      series.push({ t: Date.now() - start, values })
      log(`soak ${((Date.now() - start) / 60_000).toFixed(1)} min: ${Object.entries(values).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`)
    }
    while (Date.now() - start < durationMs) {
      await sample()
      await delay(Math.min(sampleMs, Math.max(0, durationMs - (Date.now() - start))))
    }
    await sample()
    stop = true
    await Promise.all([...stationLoops, detectLoop])
    await waitFor(() => sentAt.size === 0, { timeoutMs: 120_000, what: 'every protocol frame answered' }).finally(() => clearInterval(watcher))

    // settle: every protocol frame answered, the browser outbox drained
    await Promise.all(sts.map((s) => s.settled(120_000)))
    let browserStation: SoakReport['browserStation'] = null
    if (browser) {
      const stationPage = pages.find((p) => p.name === 'station-page')!.page
      await stationPage.locator('[data-testid=pause]').click()
      // paused: nothing new is captured, and what the outbox holds must drain to the server
      const pending = await waitFor(async () => ((await outboxPending(stationPage)) === 0 ? 0 : undefined), { timeoutMs: 120_000, what: 'the station page outbox to drain' }).catch(async () => outboxPending(stationPage))
      const recorded = await recordedResults(srv.url, 'SOAKB', 'B1')
      browserStation = { recorded: recorded.length, duplicated: duplicates(recorded.map((r) => r.frameId)), outboxPending: pending }
    }

    let sent = 0
    let busy = 0
    let rejected = 0
    let recorded = 0
    let lost = 0
    let duplicated = 0
    for (const st of sts) {
      const records = await recordedResults(srv.url, 'SOAK', st.station)
      const count = new Map<string, number>()
      for (const r of records) count.set(r.frameId, (count.get(r.frameId) ?? 0) + 1)
      for (const id of st.sent) {
        sent++
        const status = st.ackStatus(id)
        if (status === 'busy') busy++
        else if (status === 'rejected') rejected++
        else if (!count.has(id)) lost++
      }
      recorded += count.size
      for (const n of count.values()) if (n > 1) duplicated += n - 1
    }

    const measured = series.filter((s) => s.t >= warmupMs)
    const keys = Object.keys(series[0]!.values)
    const memory: Record<string, Memory> = {}
    const domNodes: SoakReport['domNodes'] = {}
    for (const k of keys) {
      const first = measured[0]!.values[k]!
      const last = measured[measured.length - 1]!.values[k]!
      const slope = slopePerMin(measured.map((s) => [s.t, s.values[k]!]))
      if (k.endsWith('-dom')) domNodes[k.slice(0, -4)] = { start: first, end: last, slopePerMin: round(slope) }
      else if (k !== 'fds') memory[k] = { startMb: round(first), endMb: round(last), slopeMbPerMin: round(slope, 3) }
    }
    const fdsSeries = measured.map((s) => [s.t, s.values.fds!] as [number, number])
    const third = durationMs / 3
    return {
      minutes: o.minutes,
      frames: { sent, recorded, lost, duplicated, busy, rejected },
      browserStation,
      http,
      memory,
      domNodes,
      latencyP99Ms: { first: p99(latencies.filter((l) => l.t >= warmupMs && l.t < warmupMs + third).map((l) => l.ms)), last: p99(latencies.filter((l) => l.t >= durationMs - third).map((l) => l.ms)) },
      fileDescriptors: { start: fdsSeries[0]![1], end: fdsSeries[fdsSeries.length - 1]![1], slopePerMin: round(slopePerMin(fdsSeries), 3) },
      samples: series.length,
    }
  } finally {
    for (const c of clients) await c.close().catch(() => undefined)
    await ctx?.close().catch(() => undefined)
    await server?.stop()
    await rm(tmp, { recursive: true, force: true })
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms))
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d

async function rssKb(pid: number): Promise<{ total: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
}

function duplicates(ids: string[]): number {
  return ids.length - new Set(ids).size
}

/** Least-squares slope of (ms, value) points, per minute. */
export function slopePerMin(points: readonly (readonly [number, number])[]): number {
  const n = points.length
  if (n < 2) return 0
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? 0 : (num / den) * 60_000
}

function p99(values: number[]): number {
  if (!values.length) return 0
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))]!
}
