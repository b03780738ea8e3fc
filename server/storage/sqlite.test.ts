import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { jpeg, result, useDatabase } from '../../test/contracts/store/fixtures.ts'
import type { Logger } from './errors.ts'
import { openStore } from './index.ts'
import { IMAGES_FILE, openSqliteStore, SQLITE_FILE } from './sqlite.ts'
import { SqliteDb } from './sqlite-db.ts'
import { storeContract, type TestDatabaseFactory } from '../../test/contracts/store.ts'

const logged: { level: string; msg: string }[] = []
const log: Logger = {
  warn: (_obj, msg) => void logged.push({ level: 'warn', msg }),
  error: (_obj, msg) => void logged.push({ level: 'error', msg }),
}

let dirs = 0
const sqlite: TestDatabaseFactory = async () => {
  const dataDir = mkdtempSync(join(tmpdir(), `linesight-store-${process.pid}-${++dirs}-`))
  return {
    open: async (opts = {}) => openSqliteStore({ log, ...opts, dataDir }),
    db: async () => new SqliteDb({ file: join(dataDir, SQLITE_FILE), log }),
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  }
}

storeContract('sqlite', sqlite)

describe('sqlite: images in images.db', () => {
  const h = useDatabase(sqlite)
  const failing = () => result({ detections: [{ classId: 0, class: 'scratch', score: 0.9, box: [0, 0, 1, 1] }] })
  const dataDirOf = async () => {
    const db = await h.raw()
    return dirname((await db.one<{ file: string }>("SELECT file FROM pragma_database_list WHERE name = 'main'"))!.file)
  }
  /** The images database's rows, read by a connection of the test's own. */
  const rows = (dataDir: string) => {
    const db = new Database(join(dataDir, IMAGES_FILE), { readonly: true })
    try {
      return db.prepare('SELECT frame_id AS frameId, variant, length(bytes) AS length FROM images ORDER BY frame_id, variant').all()
    } finally {
      db.close()
    }
  }

  it("keeps a frame's images as rows beside the store's file, and removes them with the record", async () => {
    const r = failing()
    const original = await jpeg(640, 480)
    await h.store.record(r, { mime: 'image/jpeg', original })
    const thumbnail = await h.store.getImage(r.frameId, 'thumbnail') // waits for the write, made after the record
    expect(thumbnail?.mime).toBe('image/jpeg')
    expect(await h.store.getImage(r.frameId, 'original')).toEqual({ mime: 'image/jpeg', bytes: original })
    const dataDir = await dataDirOf()
    expect(rows(dataDir)).toEqual([
      { frameId: r.frameId, variant: 'original', length: original.byteLength },
      { frameId: r.frameId, variant: 'thumbnail', length: thumbnail!.bytes.byteLength },
    ])
    expect(existsSync(join(dataDir, 'images'))).toBe(false)
    await h.store.deleteBefore(r.capturedAt + 1)
    expect(rows(dataDir)).toEqual([])
    expect(await h.store.getImage(r.frameId, 'original')).toBeNull()
  })

  it('stores a thumbnail that is the original itself once', async () => {
    const r = failing()
    const small = await jpeg(64, 48)
    await h.store.record(r, { mime: 'image/jpeg', original: small, thumbnail: small })
    expect(await h.store.getImage(r.frameId, 'original')).toEqual({ mime: 'image/jpeg', bytes: small })
    expect(await h.store.getImage(r.frameId, 'thumbnail')).toEqual({ mime: 'image/jpeg', bytes: small })
    const dataDir = await dataDirOf()
    expect(rows(dataDir)).toEqual([
      { frameId: r.frameId, variant: 'original', length: small.byteLength },
      { frameId: r.frameId, variant: 'thumbnail', length: null },
    ])
    // full-resolution evidence replaces both, each with its own bytes
    const evidence = await jpeg(640, 480)
    expect(await h.store.saveEvidence(r.frameId, evidence)).toBe(true)
    expect((await h.store.getImage(r.frameId, 'original'))?.bytes).toEqual(evidence)
    const thumbnail = (await h.store.getImage(r.frameId, 'thumbnail'))?.bytes
    expect(thumbnail).not.toEqual(small)
    expect(thumbnail).not.toEqual(evidence)
    expect(rows(dataDir)).toEqual([
      { frameId: r.frameId, variant: 'original', length: evidence.byteLength },
      { frameId: r.frameId, variant: 'thumbnail', length: thumbnail!.byteLength },
    ])
  })

  it('reads and removes the image files an earlier release wrote', async () => {
    const r = failing()
    await h.store.record(r)
    const dataDir = await dataDirOf()
    // as releases before images.db left them: images/<xx>/<sha256 of the frame id>.orig|.thumb
    const hash = createHash('sha256').update(r.frameId).digest('hex')
    const dir = join(dataDir, 'images', hash.slice(0, 2))
    const original = await jpeg(64, 48)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `${hash}.orig`), original)
    writeFileSync(join(dir, `${hash}.thumb`), original)
    const db = await h.raw()
    await db.run("UPDATE results SET original_mime = 'image/jpeg', thumbnail_mime = 'image/jpeg' WHERE frame_id = $1", [r.frameId])
    // a store looks for that folder when it opens
    const store = await h.another()
    expect(await store.getImage(r.frameId, 'original')).toEqual({ mime: 'image/jpeg', bytes: original })
    expect(await store.getImage(r.frameId, 'thumbnail')).toEqual({ mime: 'image/jpeg', bytes: original })
    await store.deleteBefore(r.capturedAt + 1)
    expect(readdirSync(dir)).toEqual([])
  })

  it('keeps the result, without an image, when the images cannot be written', async () => {
    const r = failing()
    const dataDir = await dataDirOf()
    // a folder where the images database should be: it cannot be opened, so no image is written
    mkdirSync(join(dataDir, IMAGES_FILE))
    logged.length = 0
    expect(await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(32, 32) })).toBe(true)
    expect(await h.store.get(r.frameId)).toEqual(r)
    expect(await h.store.getImage(r.frameId, 'thumbnail')).toBeNull()
    expect(logged).toContainEqual({ level: 'error', msg: 'storage: the result was recorded without its image' })
  })

  it('creates the data folder and uses WAL', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'linesight-store-wal-')), 'nested', 'data')
    const store = openSqliteStore({ dataDir, log })
    try {
      await store.migrate()
      expect(existsSync(join(dataDir, SQLITE_FILE))).toBe(true)
      const db = new SqliteDb({ file: join(dataDir, SQLITE_FILE), log })
      expect(await db.one('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' })
      await db.close()
    } finally {
      await store.close()
      rmSync(join(dataDir, '..', '..'), { recursive: true, force: true })
    }
  })
})

describe('openStore', () => {
  it('opens a migrated SQLite store in the data folder when DATABASE_URL is unset', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'linesight-store-open-'))
    const store = await openStore({ databaseUrl: undefined, dataDir, storeImages: 'all', storeOriginals: false }, log)
    try {
      expect(store.kind).toBe('sqlite')
      expect(store.lastMigration?.applied.length).toBeGreaterThan(0)
      const r = result()
      await store.record(r, { mime: 'image/jpeg', original: await jpeg(40, 40) })
      // the configured policy reached the store: a passing frame's thumbnail, no original
      expect(await store.getImage(r.frameId, 'thumbnail')).not.toBeNull()
      expect(await store.getImage(r.frameId, 'original')).toBeNull()
      expect(existsSync(join(dataDir, SQLITE_FILE))).toBe(true)
    } finally {
      await store.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
