/**
 * Headless Chromium for end-to-end tests: the system Chromium (never a downloaded one), a fresh
 * profile per test, Chromium's fake camera playing a .y4m made from the sample images, and a
 * collector that fails the test on any console error or page error.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { DEVICE_COOKIE } from '../../server/auth/authenticate.ts'
import { buildClient, clientIsStale } from '../../server/client-build.ts'
import { ROOT, TEST_ADMIN_TOKEN } from './server.ts'

export { metricValue } from './metrics.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
]

/** Null when e2e tests can run here, else why not (the test prints it and skips). */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM}`
}

export interface LaunchOptions {
  /** A fresh folder: the profile (caches, IndexedDB, service worker) of this test only. */
  profileDir: string
  /** A .y4m for the fake camera; without it Chromium's built-in test pattern. */
  camera?: string
  viewport?: { width: number; height: number }
  /** More Chromium flags, e.g. `--host-resolver-rules`. */
  args?: string[]
  /**
   * Whether the browser is a paired device of the test's servers (default true): it carries the
   * device cookie with the test admin token for 127.0.0.1, localhost and every host the
   * `--host-resolver-rules` map, as a tablet paired at /pair would. False: a tablet never paired.
   */
  paired?: boolean
}

export async function launchChromium(o: LaunchOptions): Promise<BrowserContext> {
  const camera = ['--use-fake-device-for-media-stream', ...(o.camera ? [`--use-file-for-fake-video-capture=${o.camera}`] : [])]
  const args = [...CHROMIUM_FLAGS, ...camera, ...(o.args ?? [])]
  const ctx = await chromium.launchPersistentContext(o.profileDir, {
    executablePath: CHROMIUM,
    args,
    permissions: ['camera'],
    viewport: o.viewport ?? { width: 1280, height: 800 },
    locale: 'en-US',
  })
  if (o.paired !== false) {
    const mapped = args.flatMap((a) => [...a.matchAll(/MAP\s+(\S+)\s+127\.0\.0\.1/g)].map((m) => m[1]!))
    const hosts = [...new Set(['127.0.0.1', 'localhost', ...mapped])]
    await ctx.addCookies(hosts.map((domain) => ({ name: DEVICE_COOKIE, value: TEST_ADMIN_TOKEN, domain, path: '/', httpOnly: true, sameSite: 'Strict' as const })))
  }
  return ctx
}

/**
 * Every console error and page error of a page, prefixed with its name. `expected` lists messages
 * a test provokes on purpose (e.g. the socket failing while it stopped the server); each must say
 * why in the test.
 */
export function collectProblems(page: Page, name: string, problems: string[], expected: RegExp[] = []): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected.some((e) => e.test(m.text()))) problems.push(`[${name}] console.error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`[${name}] page error: ${e.message}`))
}

export { writeY4m, type Y4mFrame } from '../../models/tools/y4m.ts'

/** A TCP port nobody listens on now, for a server that must come back on the same port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A run-unique id for lines and stations, so tests sharing a server never see each other's frames. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`
}

/**
 * What an e2e file needs before it opens a page: the client built if its sources changed since the
 * last build, and a temporary folder of its own under test/.tmp (`e2e-<name>-XXXXXX`; the caller removes it).
 */
export async function e2eTempDir(name: string): Promise<string> {
  if (clientIsStale(ROOT)) await buildClient(ROOT)
  await mkdir(join(ROOT, 'test/.tmp'), { recursive: true })
  return mkdtemp(join(ROOT, `test/.tmp/e2e-${name}-`))
}
