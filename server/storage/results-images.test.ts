/**
 * Images written after the record: the record (and so the result's publication) does not wait
 * for them, everything that reads, replaces or removes a frame's images does, and a slow disk
 * still slows the records down once MAX_IMAGE_WRITES_IN_FLIGHT frames wait for it. The image
 * store here is the real one (images.db on its thread), its writes held back behind a gate the
 * test opens.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { jpeg, result } from '../../test/contracts/store/fixtures.ts'
import { waitFor } from '../../test/helpers/wait.ts'
import type { Logger } from './errors.ts'
import { SqliteImageStore } from './image-db.ts'
import type { PreparedImages } from './images.ts'
import { ResultWriter } from './results.ts'
import { IMAGES_FILE, openSqliteStore, SQLITE_FILE } from './sqlite.ts'
import { SqliteDb } from './sqlite-db.ts'

const log: Logger = { warn: () => undefined, error: () => undefined }

/** The real image store, whose writes start only when the test opens the gate. */
class GatedImageStore extends SqliteImageStore {
  #open!: () => void
  #gate = new Promise<void>((resolve) => (this.#open = resolve))
  saves = 0
  written = 0

  override async save(sql: unknown, frameId: string, images: PreparedImages): Promise<void> {
    this.saves++
    await this.#gate
    await super.save(sql, frameId, images)
    this.written++
  }

  open(): void {
    this.#open()
  }
}

let dataDir: string
let db: SqliteDb
let images: GatedImageStore
let writer: ResultWriter

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'linesight-images-after-'))
  const store = openSqliteStore({ dataDir, log })
  await store.migrate()
  await store.close()
  db = new SqliteDb({ file: join(dataDir, SQLITE_FILE), log })
  images = new GatedImageStore(join(dataDir, IMAGES_FILE))
  writer = new ResultWriter({ db, images, policy: { keep: 'all', originals: true }, log })
})

afterEach(async () => {
  images.open()
  await writer.imagesWritten()
  await db.close()
  await images.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const failing = (n: number) => result({ frameId: `gated-${n}`, detections: [{ classId: 0, class: 'scratch', score: 0.9, box: [0, 0, 1, 1] }] })

describe('images after the record', () => {
  it('records without waiting for the files; a read of the image waits for them', async () => {
    const small = await jpeg(64, 48)
    const r = failing(1)
    expect(await writer.record(r, { mime: 'image/jpeg', original: small, thumbnail: small })).toBe(true)
    expect([images.saves, images.written]).toEqual([1, 0])
    expect(await writer.get(r.frameId)).toEqual(r)

    let read: { mime: string; bytes: Uint8Array } | null | undefined
    const reading = writer.getImage(r.frameId, 'thumbnail').then((x) => (read = x))
    await writer.get(r.frameId) // a query later, the read still waits behind the gate
    expect(read).toBeUndefined()
    images.open()
    await reading
    expect(read).toEqual({ mime: 'image/jpeg', bytes: small })
    expect(images.written).toBe(1)
  })

  it('waits for its own images once 64 frames are waiting for theirs', async () => {
    const small = await jpeg(32, 32)
    for (let i = 0; i < 64; i++) await writer.record(failing(i), { mime: 'image/jpeg', original: small, thumbnail: small })
    expect(images.written).toBe(0)
    let done = false
    const recording = writer.record(failing(64), { mime: 'image/jpeg', original: small, thumbnail: small }).then(() => (done = true))
    await waitFor(() => images.saves === 65, { what: 'the 65th frame to start its write' })
    // a turn of the event loop: every promise that could settle without the disk has
    await new Promise((resolve) => setImmediate(resolve))
    expect(done).toBe(false)
    images.open()
    await recording
    expect(images.written).toBeGreaterThanOrEqual(65)
  })

  it('retention removes the images of a frame only after they were written', async () => {
    const small = await jpeg(32, 32)
    const r = failing(1)
    await writer.record(r, { mime: 'image/jpeg', original: small, thumbnail: small })
    const purging = writer.deleteBefore(r.capturedAt + 1)
    images.open()
    expect(await purging).toBe(1)
    expect(await images.load(db, r.frameId, 'original')).toBeNull()
    expect(await images.load(db, r.frameId, 'thumbnail')).toBeNull()
  })
})
