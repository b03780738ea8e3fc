import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BodyStream } from '../api/types.ts'
import { HttpError } from '../errors.ts'
import { receive } from './receive.ts'
import { openSqliteStore, type SqlStore } from '../storage/index.ts'
import { UploadRegistry, type NewUpload, type UploadLimits } from './registry.ts'
import { UploadFiles } from './upload-files.ts'

const LIMITS: UploadLimits = { maxBytes: 1000, maxPendingBytes: 2500, maxPendingPerClient: 3, expiresMs: 60_000, keepFinishedMs: 0, lockMs: 10_000 }
const quiet = { info: () => undefined, warn: () => undefined }

let dir: string
let dbDir: string
let store: SqlStore
let now: number
let reg: UploadRegistry
const registries: UploadRegistry[] = []

/** Another process on the same store and upload volume: another gateway, or the next run. */
async function gateway(opts: { exclusive: boolean }): Promise<UploadRegistry> {
  const r = new UploadRegistry(new UploadFiles(dir), store.uploads, LIMITS, quiet, () => now)
  registries.push(r)
  await r.init(opts)
  return r
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linesight-uploads-'))
  dbDir = await mkdtemp(join(tmpdir(), 'linesight-uploads-db-'))
  store = openSqliteStore({ dataDir: dbDir, log: { ...quiet, error: () => undefined } })
  await store.migrate()
  now = 1_000_000
  reg = await gateway({ exclusive: true })
})
afterEach(async () => {
  for (const r of registries.splice(0)) r.close()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  await rm(dbDir, { recursive: true, force: true })
})

const upload = (n: Partial<NewUpload> = {}) => reg.create({ length: 10, metadata: '', line: 'L1', station: 'S1', owner: 'token:a', createdBy: 'station:a', ...n })

/** A request body as the gateway hands it over; `gone` ends it as a disconnect would. */
function body(chunks: string[], opts: { declared?: number; gone?: boolean } = {}): BodyStream {
  return {
    declaredLength: opts.declared,
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) yield Buffer.from(c)
      if (opts.gone) throw new Error('client went away')
    },
  }
}

const sha = (s: string) => ({ algorithm: 'sha256' as const, digest: createHash('sha256').update(s).digest() })

async function status(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.code}`
    return `error: ${(err as Error).message}`
  }
}

const data = async (id: string) => (await readFile(reg.files.dataPath(id))).toString()

describe('a PATCH', () => {
  it('writes at the offset and completes the upload at its length', async () => {
    const up = await upload()
    expect(await receive(reg, up, 0, body(['abc', 'de']), undefined)).toEqual({ offset: 5, complete: false })
    expect(await receive(reg, up, 5, body(['fghij']), sha('fghij'))).toEqual({ offset: 10, complete: true })
    expect(await data(up.info.id)).toBe('abcdefghij')
  })

  it('refuses an offset that skips or overlaps with 409 and leaves the file alone', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abc']), undefined)
    expect(await status(receive(reg, up, 4, body(['x']), undefined))).toBe('409 offset_mismatch')
    expect(await status(receive(reg, up, 2, body(['x']), undefined))).toBe('409 offset_mismatch')
    expect(await data(up.info.id)).toBe('abc')
  })

  it('discards a chunk whose sha256 does not match (460) and keeps the offset', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abc']), undefined)
    expect(await status(receive(reg, up, 3, body(['def']), sha('xyz')))).toBe('460 checksum_mismatch')
    expect(up.info.offset).toBe(3)
    expect(await data(up.info.id)).toBe('abc')
  })

  it('rejects a chunk beyond the declared length, declared up front or found while streaming', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abcdefgh']), undefined)
    expect(await status(receive(reg, up, 8, body(['xyz'], { declared: 3 }), undefined))).toBe('400 beyond_length')
    expect(await status(receive(reg, up, 8, body(['x', 'yz']), undefined))).toBe('400 beyond_length')
    expect(up.info.offset).toBe(8)
    expect(await data(up.info.id)).toBe('abcdefgh')
  })

  it('keeps what arrived before the client went away, but not an unverified checksummed chunk', async () => {
    const plain = await upload()
    expect(await status(receive(reg, plain, 0, body(['abc', 'de'], { gone: true }), undefined))).toBe('error: client went away')
    expect(plain.info.offset).toBe(5)
    expect(await data(plain.info.id)).toBe('abcde')
    const summed = await upload()
    expect(await status(receive(reg, summed, 0, body(['abc', 'de'], { gone: true }), sha('abcdefghij')))).toBe('error: client went away')
    expect(summed.info.offset).toBe(0)
    expect(await data(summed.info.id)).toBe('')
  })

  it('answers 423 while another PATCH writes to the same upload', async () => {
    const up = await upload()
    let release!: () => void
    const slow: BodyStream = {
      declaredLength: undefined,
      async *[Symbol.asyncIterator]() {
        yield Buffer.from('ab')
        await new Promise<void>((r) => (release = r))
      },
    }
    const first = receive(reg, up, 0, slow, undefined)
    await expect.poll(() => up.info.offset).toBe(2)
    expect(await status(receive(reg, up, 2, body(['c']), undefined))).toBe('423 locked')
    release()
    expect(await first).toEqual({ offset: 2, complete: false })
  })
})

describe('the upload limits', () => {
  it('refuses an empty or oversized upload, the fourth pending upload of a client, and bytes over the total', async () => {
    expect(await status(upload({ length: 0 }))).toBe('400 empty')
    expect(await status(upload({ length: 1001 }))).toBe('413 too_large')
    for (let i = 0; i < 3; i++) await upload({ length: 600 })
    expect(await status(upload({ length: 10 }))).toBe('429 too_many_uploads')
    expect(await status(upload({ length: 800, owner: 'addr:10.0.0.9' }))).toBe('507 uploads_full')
    expect(await status(upload({ length: 700, owner: 'addr:10.0.0.9' }))).toBe('ok')
  })

  it('expires an upload without data and removes its files on the sweep', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abc']), undefined)
    now += LIMITS.expiresMs - 1
    expect(reg.isExpired(up)).toBe(false)
    now += 1
    expect(reg.isExpired(up)).toBe(true)
    expect(await reg.sweep()).toBe(1)
    expect(await reg.get(up.info.id)).toBeUndefined()
    expect(await readdir(dir)).toEqual([])
  })
})

describe('a restart', () => {
  it('cuts data written after the last saved offset and forgets uploads whose data is gone', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abc']), undefined)
    const lost = await upload()
    // a crash between writing bytes and saving the offset leaves more on disk than was acknowledged
    await writeFile(reg.files.dataPath(up.info.id), 'abcdXYZ')
    await rm(reg.files.dataPath(lost.info.id))
    reg.close()
    const again = await gateway({ exclusive: true })
    expect(await receive(again, (await again.get(up.info.id))!, 3, body(['d']), undefined)).toEqual({ offset: 4, complete: false })
    expect(await data(up.info.id)).toBe('abcd')
    expect(await status(receive(again, (await again.get(lost.info.id))!, 0, body(['a']), undefined))).toBe('404 not_found')
    expect(await again.get(lost.info.id)).toBeUndefined()
  })
})

describe('two gateways on one store and one upload volume', () => {
  it('finish through one an upload created and begun through the other', async () => {
    const other = await gateway({ exclusive: false })
    const up = await upload()
    await receive(reg, up, 0, body(['abcd']), undefined)
    const there = (await other.get(up.info.id))!
    expect(there.info.offset).toBe(4)
    expect(await receive(other, there, 4, body(['efghij']), undefined)).toEqual({ offset: 10, complete: true })
    expect(await data(up.info.id)).toBe('abcdefghij')
    expect((await reg.get(up.info.id))!.info.offset).toBe(10)
  })

  it('answer 423 on one while the other writes, and take over once the writer is gone and its lease ran out', async () => {
    const other = await gateway({ exclusive: false })
    const up = await upload()
    let release!: () => void
    const stuck: BodyStream = {
      declaredLength: undefined,
      async *[Symbol.asyncIterator]() {
        yield Buffer.from('ab')
        await new Promise<void>((r) => (release = r))
      },
    }
    const first = receive(reg, up, 0, stuck, undefined)
    await expect.poll(() => up.info.offset).toBe(2)
    expect(await status(receive(other, (await other.get(up.info.id))!, 0, body(['a']), undefined))).toBe('423 locked')
    // the writing gateway dies: nothing renews its lease, which runs out
    reg.close()
    now += LIMITS.lockMs
    const there = (await other.get(up.info.id))!
    expect(await receive(other, there, there.info.offset, body(['abcdefghij'.slice(there.info.offset)]), undefined)).toEqual({ offset: 10, complete: true })
    expect(await data(up.info.id)).toBe('abcdefghij')
    release()
    // the dead writer's PATCH, had it come back, finds the upload moved on
    await first.catch(() => undefined)
    expect(await data(up.info.id)).toBe('abcdefghij')
  })

  it('share the limits: unfinished uploads through either count against one client', async () => {
    const other = await gateway({ exclusive: false })
    await upload()
    await upload()
    await other.create({ length: 10, metadata: '', line: 'L1', station: 'S1', owner: 'token:a', createdBy: 'station:a' })
    expect(await status(other.create({ length: 10, metadata: '', line: 'L1', station: 'S1', owner: 'token:a', createdBy: 'station:a' }))).toBe('429 too_many_uploads')
  })
})
