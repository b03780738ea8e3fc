/**
 * What the contract suites share: the database under test, a fresh one per test, and
 * deterministic sample data.
 */
import sharp from 'sharp'
import { afterEach, beforeEach } from 'vitest'
import type { InspectionResult } from '../../../shared/domain/result.ts'
import type { Db } from '../../../server/storage/sql.ts'
import type { SqlStore } from '../../../server/storage/store.ts'
import type { StoreOptions } from '../../../server/storage/types.ts'
import { mulberry32 } from '../../../shared/random.ts'

/** One empty database (a temp folder, a schema) that stores can be opened on. */
export interface TestDatabase {
  /** A new store on this database, with its own connection(s); not migrated yet. */
  open(opts?: StoreOptions): Promise<SqlStore>
  /** A bare connection, for looking behind the store's back. */
  db(): Promise<Db>
  drop(): Promise<void>
}

export type TestDatabaseFactory = () => Promise<TestDatabase>

export interface Harness {
  database: TestDatabase
  /** Opened and migrated before each test. */
  store: SqlStore
  /** Another store on the same database (another process, as far as the database can tell). */
  another(opts?: StoreOptions): Promise<SqlStore>
  raw(): Promise<Db>
}

/** A fresh database and a migrated store for every test; everything is closed and dropped after. */
export function useDatabase(factory: TestDatabaseFactory, opts: StoreOptions = {}): Harness {
  const opened: { close(): Promise<void> }[] = []
  const h = {} as Harness
  beforeEach(async () => {
    h.database = await factory()
    h.store = await h.database.open(opts)
    opened.push(h.store)
    await h.store.migrate()
    h.another = async (more = {}) => {
      const s = await h.database.open({ ...opts, ...more })
      opened.push(s)
      await s.migrate()
      return s
    }
    h.raw = async () => {
      const db = await h.database.db()
      opened.push(db)
      return db
    }
  })
  afterEach(async () => {
    for (const s of opened.splice(0).reverse()) await s.close()
    await h.database.drop()
  })
  return h
}

/** The seeded generator these fixtures draw from (shared/random.ts). */
export const prng = mulberry32

export const CLASSES = ['scratch', 'dent', 'stain', 'part'] as const
export const DEFECTS: readonly string[] = ['scratch', 'dent', 'stain']
export const T0 = Date.UTC(2025, 2, 10, 6, 0, 0)

let counter = 0
export function result(over: Partial<InspectionResult> = {}): InspectionResult {
  const detections = over.detections ?? [{ classId: 3, class: 'part', score: 0.9, box: [10, 10, 100, 100] as [number, number, number, number] }]
  return {
    frameId: `f-${process.pid}-${++counter}`,
    line: 'line-a',
    station: 'st-1',
    capturedAt: T0,
    model: { name: 'detector', version: '1.0.0' },
    inferredAt: 'server',
    ep: 'cpu',
    detections,
    verdict: detections.some((d) => DEFECTS.includes(d.class)) ? 'fail' : 'pass',
    timings: { infer: 12.5, queue: 1 },
    ...over,
  }
}

/**
 * A varied data set: 3 lines, 2 stations each, some frames of an upload job, 0-3 detections,
 * timestamps spread over 6 hours with deliberate ties (keyset order needs frame_id to break them).
 */
export function dataset(n: number, seed = 1): InspectionResult[] {
  const rnd = prng(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
  return Array.from({ length: n }, (_, i) => {
    const detections = Array.from({ length: Math.floor(rnd() * 4) }, () => {
      const classId = Math.floor(rnd() * CLASSES.length)
      return { classId, class: CLASSES[classId]!, score: Math.round(rnd() * 1000) / 1000, box: [1, 2, 3, 4] as [number, number, number, number] }
    })
    const r = result({
      frameId: `ds${seed}-${String(i).padStart(4, '0')}-${pick(['a', 'b', 'c'])}`,
      line: pick(['line-a', 'line-b', 'line-c']),
      station: pick(['st-1', 'st-2']),
      // whole minutes make ties likely; a fraction on some keeps device-clock values honest
      capturedAt: T0 + Math.floor(rnd() * 360) * 60_000 + (rnd() < 0.2 ? 0.25 : 0),
      detections,
    })
    if (rnd() < 0.25) r.jobId = 'job-1'
    return r
  })
}

/** A real JPEG of the given size, with some structure so it compresses like a photo. */
export async function jpeg(width: number, height: number): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 5)) & 0xff
  const buf = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg().toBuffer()
  return new Uint8Array(buf)
}

export async function png(width: number, height: number): Promise<Uint8Array> {
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer()
  return new Uint8Array(buf)
}

/** Every page of a query, in order. */
export async function allPages<T>(page: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const p = await page(cursor)
    items.push(...p.items)
    cursor = p.nextCursor
    pages++
    if (pages > 10_000) throw new Error('pagination does not end')
  } while (cursor)
  return { items, pages }
}

export const newestFirst = (a: InspectionResult, b: InspectionResult) => b.capturedAt - a.capturedAt || (a.frameId < b.frameId ? 1 : a.frameId > b.frameId ? -1 : 0)
