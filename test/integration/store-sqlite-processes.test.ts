/**
 * Several processes on one SQLite file, as when a gateway and workers share a host's data
 * folder: they migrate, record the same frames, race for the bootstrap admin token and add into
 * the same load minute, all at once. Each process is a real `node` with its own connection.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../../server/storage/schema.ts'
import { openSqliteStore } from '../../server/storage/sqlite.ts'

const PROCESSES = 4
const FRAMES = 80
const sqliteModule = fileURLToPath(new URL('../../server/storage/sqlite.ts', import.meta.url))

interface ChildReport {
  applied: number[]
  created: string[]
  admin: { created: boolean; secret?: string }
}

// Runs in each child: waits at the barrier (the go file), migrates, records the first frame of
// its own walk, waits at a second barrier until every child has done so (otherwise one fast
// process could record all frames before the others start, and nothing would collide), then
// walks the remaining frames while the others walk theirs.
const CHILD = `
import { existsSync, writeFileSync } from 'node:fs'
const { openSqliteStore } = await import(process.env.SQLITE_MODULE)
const { DATA_DIR, GO_FILE, CHILD_INDEX, FRAMES, PROCESSES } = process.env
const quiet = { warn() {}, error(o, m) { console.error(m, o) } }
const store = openSqliteStore({ dataDir: DATA_DIR, log: quiet })
console.log('ready')
while (!existsSync(GO_FILE)) await new Promise((r) => setTimeout(r, 5))
await store.migrate()
const created = []
const n = Number(FRAMES)
for (let k = 0; k < n; k++) {
  // each process walks the frames from a different start, so they collide all the way
  const i = (k + Number(CHILD_INDEX) * 17) % n
  const frameId = 'mp-' + i
  const r = { frameId, line: 'line-a', station: 'st-' + CHILD_INDEX, capturedAt: 1700000000000 + i, model: { name: 'd', version: '1' },
    inferredAt: 'server', ep: 'cpu', detections: [{ classId: 0, class: 'scratch', score: 0.5, box: [0, 0, 1, 1] }], verdict: 'fail', timings: {} }
  if (await store.record(r)) created.push(frameId)
  if (k === 0) {
    writeFileSync(GO_FILE + '-' + CHILD_INDEX, '')
    const all = Array.from({ length: Number(PROCESSES) }, (_, c) => GO_FILE + '-' + c)
    while (!all.every((f) => existsSync(f))) await new Promise((r) => setTimeout(r, 5))
  }
  await store.loadHistory.add({ minute: 1700000040000, line: 'line-a', source: 'p' + CHILD_INDEX, frames: 1, skipped: 0, browserFrames: 0, queueDepthMax: k, workers: 1, p95Ms: 1 })
}
const admin = await store.tokens.ensureAdminToken()
await store.close()
console.log(JSON.stringify({ applied: store.lastMigration.applied, created, admin }))
`

function child(index: number, dataDir: string, goFile: string): { ready: Promise<void>; done: Promise<ChildReport> } {
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, SQLITE_MODULE: sqliteModule, DATA_DIR: dataDir, GO_FILE: goFile, CHILD_INDEX: String(index), FRAMES: String(FRAMES), PROCESSES: String(PROCESSES) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let markReady!: () => void
  const ready = new Promise<void>((r) => (markReady = r))
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.includes('ready\n')) markReady()
  })
  p.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const done = new Promise<ChildReport>((resolve, reject) => {
    p.on('error', reject)
    p.on('exit', (code) => {
      markReady()
      if (code !== 0) return reject(new Error(`child ${index} exited with ${code}: ${err}`))
      const last = out.trim().split('\n').pop() ?? ''
      resolve(JSON.parse(last) as ChildReport)
    })
  })
  return { ready, done }
}

describe('sqlite store shared by several processes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'linesight-store-mp-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('migrates once, records each frame once and makes one admin token across processes', async () => {
    const goFile = join(dataDir, 'go')
    const children = Array.from({ length: PROCESSES }, (_, i) => child(i, dataDir, goFile))
    await Promise.all(children.map((c) => c.ready))
    expect(existsSync(join(dataDir, 'linesight.db'))).toBe(true)
    writeFileSync(goFile, '')
    const reports = await Promise.all(children.map((c) => c.done))

    expect(reports.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version))
    const created = reports.flatMap((r) => r.created).sort()
    expect(created).toEqual(Array.from({ length: FRAMES }, (_, i) => `mp-${i}`).sort())
    // every process won the first frame of its own walk (no other process had reached it at the
    // second barrier), so all of them were recording at once for the rest
    for (const [i, r] of reports.entries()) expect(r.created).toContain(`mp-${(i * 17) % FRAMES}`)
    const admins = reports.filter((r) => r.admin.created)
    expect(admins).toHaveLength(1)

    const store = openSqliteStore({ dataDir })
    try {
      await store.migrate()
      const page = await store.query({ limit: 1000 })
      expect(page.items).toHaveLength(FRAMES)
      expect(await store.countsByClass({})).toEqual([{ line: 'line-a', class: 'scratch', count: FRAMES }])
      expect(await store.tokens.verify(admins[0]!.admin.secret!)).toMatchObject({ role: 'admin' })
      const [minute] = await store.loadHistory.range(1_700_000_040_000, 1_700_000_100_000)
      expect(minute).toMatchObject({ frames: PROCESSES * FRAMES, workers: PROCESSES, queueDepthMax: FRAMES - 1 })
    } finally {
      await store.close()
    }
  })
})
