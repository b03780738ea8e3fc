/**
 * The images database on its own (the store's use of it is in sqlite.test.ts and
 * results-images.test.ts): two stores on one file as two processes would have, what close()
 * owes to writes it was asked for, the file giving its space back when images are removed, and a
 * file that cannot be opened.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/wait.ts'
import { SqliteImageStore } from './image-db.ts'

let dir: string
let file: string
const opened: SqliteImageStore[] = []
const open = () => {
  const s = new SqliteImageStore(file)
  opened.push(s)
  return s
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'linesight-image-db-'))
  file = join(dir, 'images.db')
})

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

const jpegLike = (n: number) => new Uint8Array(randomBytes(n))
/** Equal bytes (toEqual walks a typed array element by element: tens of ms for an image). */
const bytesOf = (a: Uint8Array | null) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') : a)

describe('images.db', () => {
  it('answers null for an image it never had', async () => {
    const s = open()
    expect(await s.load(undefined, 'nothing', 'original')).toBeNull()
    expect(await s.load(undefined, 'nothing', 'thumbnail')).toBeNull()
  })

  it('is shared by two stores on one file, each writing while the other does', async () => {
    const a = open()
    const b = open()
    const bytes = new Map<string, Uint8Array>()
    const writes: Promise<void>[] = []
    for (let i = 0; i < 40; i++) {
      const frameId = `f-${i}`
      const original = jpegLike(20_000 + i)
      bytes.set(frameId, original)
      writes.push((i % 2 ? a : b).save(undefined, frameId, { original: { mime: 'image/jpeg', bytes: original } }))
    }
    await Promise.all(writes)
    for (const [frameId, original] of bytes) {
      expect(bytesOf(await a.load(undefined, frameId, 'original'))).toBe(bytesOf(original))
      expect(bytesOf(await b.load(undefined, frameId, 'original'))).toBe(bytesOf(original))
    }
  })

  it('writes what it was asked to before close() returns', async () => {
    const s = new SqliteImageStore(file)
    const original = jpegLike(50_000)
    const saving = s.save(undefined, 'last', { original: { mime: 'image/jpeg', bytes: original }, thumbnail: { mime: 'image/jpeg', bytes: original } })
    await s.close()
    await saving
    const again = open()
    expect(bytesOf(await again.load(undefined, 'last', 'thumbnail'))).toBe(bytesOf(original))
  })

  it('gives the space of removed images back to the file system', async () => {
    const s = open()
    const ids = Array.from({ length: 60 }, (_, i) => `big-${i}`)
    await Promise.all(ids.map((id) => s.save(undefined, id, { original: { mime: 'image/jpeg', bytes: jpegLike(100_000) } })))
    // through the WAL into the file: a second store's close checkpoints it
    await s.close()
    const t = open()
    const full = statSync(file).size
    expect(full).toBeGreaterThan(60 * 100_000)
    await t.remove(undefined, ids.slice(0, 55))
    await t.close()
    expect(statSync(file).size).toBeLessThan(full / 4)
    const u = open()
    expect(await u.load(undefined, 'big-0', 'original')).toBeNull()
    expect((await u.load(undefined, 'big-59', 'original'))?.byteLength).toBe(100_000)
  })

  it('fails at once while its file cannot be opened, without a thread per request, and recovers', async () => {
    mkdirSync(file) // a folder where the file should be
    const s = open()
    const image = { original: { mime: 'image/jpeg', bytes: jpegLike(1000) } }
    const first = (await s.save(undefined, 'a', image).catch((e: unknown) => e)) as Error
    expect(first.message).toBe('could not write the images of frame a')
    const from = Date.now()
    for (let i = 0; i < 20; i++) await expect(s.save(undefined, `b-${i}`, image)).rejects.toThrow('could not write the images of frame')
    // not a thread per request: at most one more per second the requests took
    expect(s.threadsStarted).toBeLessThanOrEqual(2 + Math.floor((Date.now() - from) / 1000))
    rmSync(file, { recursive: true })
    await waitFor(() => s.save(undefined, 'c', image).then(() => true, () => false), { what: 'a write once the file can be made' })
    expect((await s.load(undefined, 'c', 'original'))?.byteLength).toBe(1000)
  })
})
