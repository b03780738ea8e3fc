/**
 * Rough throughput of the store on this machine, for sizing (not a test: nothing is asserted).
 *   npx tsx bench/storage.ts [frames]          SQLite in a temp folder
 *   DATABASE_URL=... npx tsx bench/storage.ts  PostgreSQL too, in a throwaway schema
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import sharp from 'sharp'
import type { InspectionResult } from '../shared/domain/result.ts'
import { makeThumbnail } from '../server/storage/images.ts'
import { openPostgresStore } from '../server/storage/postgres.ts'
import { openSqliteStore } from '../server/storage/sqlite.ts'
import type { SqlStore } from '../server/storage/store.ts'

const N = Number(process.argv[2] ?? 2000)
const quiet = { warn: () => undefined, error: (o: object, m: string) => console.error(m, o) }

function frame(i: number, tag: string): InspectionResult {
  const fail = i % 10 === 0
  return {
    frameId: `b-${tag}-${i}`,
    line: `line-${i % 4}`,
    station: `st-${i % 8}`,
    capturedAt: Date.now() - (N - i) * 100,
    model: { name: 'detector', version: '1' },
    inferredAt: 'server',
    ep: 'cpu',
    detections: [
      { classId: 3, class: 'part', score: 0.9, box: [1, 2, 3, 4] },
      ...(fail ? [{ classId: 0, class: 'scratch', score: 0.7, box: [5, 6, 7, 8] as [number, number, number, number] }] : []),
    ],
    verdict: fail ? 'fail' : 'pass',
    timings: { infer: 10 },
  }
}

async function time(label: string, count: number, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now()
  await fn()
  const ms = performance.now() - t0
  console.log(`${label.padEnd(44)} ${(ms / count).toFixed(3).padStart(8)} ms/op  ${Math.round((count * 1000) / ms).toString().padStart(7)} op/s`)
}

async function bench(name: string, store: SqlStore): Promise<void> {
  console.log(`\n${name} (${N} results, 1 in 10 failing; images off except where noted)`)
  await store.migrate()
  await time('record, one at a time', N, async () => {
    for (let i = 0; i < N; i++) await store.record(frame(i, 'seq'))
  })
  await time('record, 8 concurrent callers', N, async () => {
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < N) await store.record(frame(next++, 'par'))
    }))
  })
  await time('record a duplicate', N, async () => {
    for (let i = 0; i < N; i++) await store.record(frame(i, 'seq'))
  })
  await time('query one line, first page of 100', 200, async () => {
    for (let i = 0; i < 200; i++) await store.query({ line: 'line-1', limit: 100 })
  })
  await time('query class=scratch, first page of 100', 200, async () => {
    for (let i = 0; i < 200; i++) await store.query({ class: 'scratch', limit: 100 })
  })
  await time('countsByHour, all lines', 50, async () => {
    for (let i = 0; i < 50; i++) await store.countsByHour({})
  })
  await time('token verify (cached)', 10_000, async () => {
    const { secret } = await store.tokens.createToken({ role: 'station', lines: ['line-1'], label: 'bench', createdBy: 'bench' })
    for (let i = 0; i < 10_000; i++) await store.tokens.verify(secret)
  })
  await store.close()
}

async function withImages(name: string, store: SqlStore, original: Uint8Array): Promise<void> {
  await store.migrate()
  const n = Math.min(N, 200)
  await time(`${name}: record failing + 1280x720 JPEG`, n, async () => {
    for (let i = 0; i < n; i++) await store.record({ ...frame(i * 10, 'img'), verdict: 'fail' }, { mime: 'image/jpeg', original })
  })
  await store.close()
}

// noise compresses like a camera frame (a flat colour would make a tiny, unrepresentative JPEG)
const sharpInput = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 90, g: 120, b: 200 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer()
const original = new Uint8Array(sharpInput)
await time('thumbnail of a 1280x720 JPEG (sharp)', 50, async () => {
  for (let i = 0; i < 50; i++) await makeThumbnail(original)
})

const dir = mkdtempSync(join(tmpdir(), 'linesight-bench-'))
try {
  await bench('SQLite', openSqliteStore({ dataDir: dir, log: quiet }))
  await withImages('SQLite', openSqliteStore({ dataDir: join(dir, 'img'), log: quiet }), original)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const url = process.env.DATABASE_URL
if (url) {
  const schema = `ls_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  try {
    await bench('PostgreSQL', openPostgresStore({ connectionString: url, schema, log: quiet }))
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.query(`CREATE SCHEMA ${schema}`)
    await withImages('PostgreSQL', openPostgresStore({ connectionString: url, schema, log: quiet }), original)
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}
