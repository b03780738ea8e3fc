import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BodyStream } from '../api/types.ts'
import { HttpError } from '../errors.ts'
import { receive } from './receive.ts'
import { UploadRegistry, type NewUpload, type UploadLimits } from './registry.ts'
import { UploadFiles } from './upload-files.ts'

const LIMITS: UploadLimits = { maxBytes: 1000, maxPendingBytes: 2500, maxPendingPerClient: 3, expiresMs: 60_000, keepFinishedMs: 0 }
const quiet = { info: () => undefined, warn: () => undefined }

let dir: string
let now: number
let reg: UploadRegistry

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linesight-uploads-'))
  now = 1_000_000
  reg = new UploadRegistry(new UploadFiles(dir), LIMITS, quiet, () => now)
  await reg.init()
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
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
    expect(reg.get(up.info.id)).toBeUndefined()
    expect(await readdir(dir)).toEqual([])
  })
})

describe('a restart', () => {
  it('cuts data written after the last saved offset and forgets files it cannot trust', async () => {
    const up = await upload()
    await receive(reg, up, 0, body(['abc']), undefined)
    // a crash between writing bytes and saving the offset leaves more on disk than was acknowledged
    await writeFile(reg.files.dataPath(up.info.id), 'abcdXYZ')
    await writeFile(join(dir, `${'f'.repeat(32)}.bin`), 'orphan data')
    await writeFile(join(dir, `${'e'.repeat(32)}.json`), '{not json')
    const again = new UploadRegistry(new UploadFiles(dir), LIMITS, quiet, () => now)
    await again.init()
    expect(again.get(up.info.id)?.info.offset).toBe(3)
    expect(await data(up.info.id)).toBe('abc')
    expect((await readdir(dir)).sort()).toEqual([`${up.info.id}.bin`, `${up.info.id}.json`])
  })
})
