import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { jpeg, result, useDatabase } from '../../test/contracts/store/fixtures.ts'
import type { Logger } from './errors.ts'
import { openStore } from './index.ts'
import { openSqliteStore, SQLITE_FILE } from './sqlite.ts'
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

describe('sqlite: images on disk', () => {
  const h = useDatabase(sqlite)
  const failing = () => result({ detections: [{ classId: 0, class: 'scratch', score: 0.9, box: [0, 0, 1, 1] }] })

  it('names image files after the hash of the frame id, not the id itself', async () => {
    const r = { ...failing(), frameId: 'frame..01' }
    await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(64, 48) })
    expect(await h.store.getImage(r.frameId, 'thumbnail')).not.toBeNull() // waits for the files, written after the record
    const hash = createHash('sha256').update(r.frameId).digest('hex')
    const db = await h.raw()
    const file = (await db.one<{ file: string }>("SELECT file FROM pragma_database_list WHERE name = 'main'"))!.file
    const dir = join(file, '..', 'images', hash.slice(0, 2))
    expect(readdirSync(dir).sort()).toEqual([`${hash}.orig`, `${hash}.thumb`])
    await h.store.deleteBefore(r.capturedAt + 1)
    expect(readdirSync(dir)).toEqual([])
  })

  it('stores a thumbnail that is the original itself once, under both names', async () => {
    const r = failing()
    const small = await jpeg(64, 48)
    await h.store.record(r, { mime: 'image/jpeg', original: small, thumbnail: small })
    expect(await h.store.getImage(r.frameId, 'original')).toEqual({ mime: 'image/jpeg', bytes: small })
    expect(await h.store.getImage(r.frameId, 'thumbnail')).toEqual({ mime: 'image/jpeg', bytes: small })
    const hash = createHash('sha256').update(r.frameId).digest('hex')
    const db = await h.raw()
    const file = (await db.one<{ file: string }>("SELECT file FROM pragma_database_list WHERE name = 'main'"))!.file
    const dir = join(file, '..', 'images', hash.slice(0, 2))
    expect(statSync(join(dir, `${hash}.thumb`)).ino).toBe(statSync(join(dir, `${hash}.orig`)).ino)
    // full-resolution evidence replaces both names' files, not the one file behind them
    const evidence = await jpeg(640, 480)
    expect(await h.store.saveEvidence(r.frameId, evidence)).toBe(true)
    expect((await h.store.getImage(r.frameId, 'original'))?.bytes).toEqual(evidence)
    expect((await h.store.getImage(r.frameId, 'thumbnail'))?.bytes).not.toEqual(small)
    expect(statSync(join(dir, `${hash}.thumb`)).ino).not.toBe(statSync(join(dir, `${hash}.orig`)).ino)
    await h.store.deleteBefore(r.capturedAt + 1)
    expect(readdirSync(dir)).toEqual([])
  })

  it('keeps the result, without an image, when the image files cannot be written', async () => {
    const r = failing()
    const hash = createHash('sha256').update(r.frameId).digest('hex')
    const db = await h.raw()
    const file = (await db.one<{ file: string }>("SELECT file FROM pragma_database_list WHERE name = 'main'"))!.file
    // a plain file where the image's folder should be makes every write there fail
    mkdirSync(join(file, '..', 'images'), { recursive: true })
    writeFileSync(join(file, '..', 'images', hash.slice(0, 2)), 'in the way')
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
