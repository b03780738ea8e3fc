import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsBlobStore } from './blobs.ts'
import { QueueError } from './errors.ts'

describe('FsBlobStore', () => {
  let dir: string
  let store: FsBlobStore
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linesight-blobs-'))
    store = new FsBlobStore(dir)
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('gives back the bytes it stored under the reference it returned', async () => {
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)
    const ref = await store.put(bytes)
    expect(Buffer.from(await store.get(ref)).equals(Buffer.from(bytes))).toBe(true)
    // no temporary file is left beside it
    expect(await readdir(join(dir, ref.slice(0, 2)))).toEqual([ref])
  })

  it('reports a deleted blob as missing and deletes twice without error', async () => {
    const ref = await store.put(new Uint8Array([1, 2, 3]))
    await store.delete(ref)
    await store.delete(ref)
    const err = await store.get(ref).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(QueueError)
    expect((err as QueueError).code).toBe('blob_missing')
  })

  it('refuses a reference that would leave its folder', async () => {
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'blob_missing' })
    await expect(store.delete('../x')).rejects.toMatchObject({ code: 'blob_missing' })
  })

  it('sweeps blobs older than the age it is given and keeps the rest', async () => {
    const old = await store.put(new Uint8Array([1]))
    const fresh = await store.put(new Uint8Array([2]))
    const anHourAgo = new Date(Date.now() - 3600_000)
    await utimes(join(dir, old.slice(0, 2), old), anHourAgo, anHourAgo)
    expect(await store.sweep(60_000)).toBe(1)
    await expect(store.get(old)).rejects.toMatchObject({ code: 'blob_missing' })
    expect(Array.from(await store.get(fresh))).toEqual([2])
  })

  it('sweeps an empty or absent folder', async () => {
    expect(await new FsBlobStore(join(dir, 'never-created')).sweep(0)).toBe(0)
  })
})
