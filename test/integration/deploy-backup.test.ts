/**
 * deploy/scripts/backup.sh and restore.sh against a real PostgreSQL: results (with their images)
 * written through the store API, backed up with the models folder, the database dropped, restored,
 * and the same results read back. Uses a database of its own, named after this run, dropped after.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { openStore } from '../../server/storage/index.ts'
import { findExecutable } from '../../server/metrics/gpu.ts'
import { ROOT } from '../helpers/server.ts'

const url = process.env.DATABASE_URL
const tools = (await findExecutable('pg_dump')) && (await findExecutable('pg_restore'))
if (!url) console.warn('deploy-backup: DATABASE_URL is not set; skipping the backup and restore scripts')
else if (!tools) console.warn('deploy-backup: pg_dump/pg_restore are not installed (Debian: apt-get install postgresql-client); skipping')

const database = `ls_backup_${randomBytes(4).toString('hex')}`
const dbUrl = () => {
  const u = new URL(url!)
  u.pathname = `/${database}`
  return u.toString()
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

function script(name: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(ROOT, 'deploy/scripts', name), args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

const T0 = Date.UTC(2025, 5, 2, 6, 0, 0)
const results: InspectionResult[] = Array.from({ length: 12 }, (_, i) => ({
  frameId: `backup-${i}`,
  line: i % 2 ? 'L2' : 'L1',
  station: 'S1',
  capturedAt: T0 + i * 1000,
  model: { name: 'detector', version: '3' },
  inferredAt: 'server',
  ep: 'cpu',
  detections: i % 3 === 0 ? [{ classId: 0, class: 'scratch', score: 0.91, box: [10, 20, 30, 40] }] : [],
  verdict: i % 3 === 0 ? 'fail' : 'pass',
  timings: { queue: 1, infer: 12.5 },
  source: 'ws',
  width: 64,
  height: 48,
}))

describe.skipIf(!url || !tools)('backup and restore scripts', () => {
  let work: string
  let models: string
  let image: Buffer

  beforeAll(async () => {
    await admin(`CREATE DATABASE "${database}"`)
    work = await mkdtemp(join(tmpdir(), 'ls-backup-'))
    models = join(work, 'models')
    await mkdir(join(models, 'detector'), { recursive: true })
    await writeFile(join(models, 'detector/manifest.json'), JSON.stringify({ name: 'detector', version: '3' }))
    await writeFile(join(models, 'detector/detector.onnx'), randomBytes(4096))
    image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#a33' } }).jpeg().toBuffer()
    const store = await openStore({ databaseUrl: dbUrl(), dataDir: work, storeImages: 'fail', storeOriginals: true })
    try {
      for (const r of results) expect(await store.record(r, r.verdict === 'fail' ? { mime: 'image/jpeg', original: image } : undefined)).toBe(true)
    } finally {
      await store.close()
    }
  }, 60_000)

  afterAll(async () => {
    if (url) await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('backs up, and after the database and models are lost, restores the same results, images and model files', async () => {
    const modelBefore = await readFile(join(models, 'detector/detector.onnx'))
    const backup = await script('backup.sh', [join(work, 'backups'), models], { DATABASE_URL: dbUrl() })
    expect(backup.code, backup.stderr).toBe(0)
    const set = backup.stdout.trim()
    expect((await readdir(set)).sort()).toEqual(['SHA256SUMS', 'models.tar.gz', 'results.dump'])

    // the disaster: the database and the models are gone
    await admin(`DROP DATABASE "${database}" WITH (FORCE)`)
    await admin(`CREATE DATABASE "${database}"`)
    await rm(models, { recursive: true })

    const restore = await script('restore.sh', [set, models], { DATABASE_URL: dbUrl() })
    expect(restore.code, restore.stderr).toBe(0)

    const store = await openStore({ databaseUrl: dbUrl(), dataDir: work, storeImages: 'fail', storeOriginals: true })
    try {
      for (const r of results) expect(await store.get(r.frameId)).toEqual(r)
      const page = await store.query({ line: 'L1', limit: 100 })
      expect(page.items.map((r) => r.frameId).sort()).toEqual(results.filter((r) => r.line === 'L1').map((r) => r.frameId).sort())
      const stored = await store.getImage('backup-0', 'original')
      expect(Buffer.from(stored!.bytes).equals(image)).toBe(true)
      // the restored store is writable and still refuses a duplicate frame id
      expect(await store.record(results[1]!)).toBe(false)
    } finally {
      await store.close()
    }
    expect((await readFile(join(models, 'detector/detector.onnx'))).equals(modelBefore)).toBe(true)
  }, 120_000)

  it('refuses a damaged backup set and leaves the database and models as they were', async () => {
    const backup = await script('backup.sh', [join(work, 'backups-2'), models], { DATABASE_URL: dbUrl() })
    expect(backup.code, backup.stderr).toBe(0)
    const set = backup.stdout.trim()
    const dump = await readFile(join(set, 'results.dump'))
    dump[dump.length - 10] ^= 0xff
    await writeFile(join(set, 'results.dump'), dump)

    const restore = await script('restore.sh', [set, models], { DATABASE_URL: dbUrl() })
    expect(restore.code).not.toBe(0)
    expect(restore.stderr).toContain('checksums do not match')
    expect((await readdir(work)).filter((f) => f.startsWith('models.before-restore'))).toEqual([])
    const store = await openStore({ databaseUrl: dbUrl(), dataDir: work, storeImages: 'fail', storeOriginals: true })
    try {
      expect(await store.get('backup-3')).toEqual(results[3])
    } finally {
      await store.close()
    }
  }, 120_000)

  it('refuses to run without DATABASE_URL', async () => {
    const r = await script('backup.sh', [join(work, 'backups-3'), models], {})
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('DATABASE_URL')
  })
})
