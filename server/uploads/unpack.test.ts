import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bombPng, makeTar, makeZip } from '../../test/fixtures/archives.ts'
import { ArchiveRefused, frames, inventory, UploadRefused, type UnpackLimits } from './unpack.ts'

const LIMITS: UnpackLimits = { maxEntries: 50, maxBytes: 8 * 1024 * 1024, maxFrameBytes: 2 * 1024 * 1024, maxPixels: 4_000_000 }

let dir: string
let jpeg: Buffer
let png: Buffer
let n = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linesight-unpack-'))
  jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } }).jpeg().toBuffer()
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#a36' } }).png().toBuffer()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(bytes: Uint8Array): Promise<string> {
  const path = join(dir, `upload-${n++}`)
  await writeFile(path, bytes)
  return path
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (err instanceof ArchiveRefused || err instanceof UploadRefused) return err.code
    throw err
  }
  return 'accepted'
}

describe('inventory of a zip', () => {
  it('keeps images, skips and counts everything else, and never writes an entry anywhere', async () => {
    const path = await file(
      makeZip([
        { name: 'a.jpg', data: jpeg },
        { name: 'sub/', data: new Uint8Array(0), method: 'store' },
        { name: 'sub/b.png', data: png, method: 'store' },
        { name: 'labels.txt', data: Buffer.from('part 0.5 0.5 0.2 0.2') },
        { name: '../../escape.jpg', data: jpeg },
        { name: '/etc/abs.jpg', data: jpeg },
        { name: 'C:\\win.jpg', data: jpeg },
        { name: 'empty.jpg', data: new Uint8Array(0) },
        { name: 'big.jpg', data: Buffer.alloc(3 * 1024 * 1024) },
        { name: 'bomb.png', data: bombPng(), method: 'store' },
        { name: 'broken.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]) },
      ]),
    )
    const before = await readdir(dir)
    const inv = await inventory(path, 'batch.zip', LIMITS)
    expect(inv.kind).toBe('zip')
    expect(inv.entries).toBe(11)
    expect(inv.images.map((i) => [i.index, i.name, i.mime, i.width, i.height])).toEqual([
      [0, 'a.jpg', 'image/jpeg', 64, 48],
      [2, 'sub/b.png', 'image/png', 32, 32],
    ])
    expect(inv.skipped).toEqual({ not_image: 1, unsafe_name: 3, empty: 1, too_large: 1, too_many_pixels: 1, undecodable: 1 })
    expect(await readdir(dir)).toEqual(before)
    const got = []
    for await (const f of frames(path, inv, LIMITS)) got.push([f.image.name, Buffer.from(f.bytes).equals(f.image.index === 0 ? jpeg : png)])
    expect(got).toEqual([
      ['a.jpg', true],
      ['sub/b.png', true],
    ])
  })

  it('refuses a zip that declares more entries than allowed before reading any', async () => {
    const path = await file(makeZip(Array.from({ length: LIMITS.maxEntries + 1 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') }))))
    expect(await refusal(inventory(path, 'x.zip', LIMITS))).toBe('too_many_entries')
  })

  it('refuses a zip bomb whose entries unpack past UPLOAD_ARCHIVE_MAX_BYTES', async () => {
    const zeros = Buffer.alloc(LIMITS.maxBytes + 1)
    const bomb = makeZip([{ name: 'zeros.bin', data: zeros }])
    expect(bomb.length).toBeLessThan(64 * 1024)
    expect(await refusal(inventory(await file(bomb), 'bomb.zip', LIMITS))).toBe('archive_too_large')
  })

  it('skips an entry that inflates past the size it declares (a lying zip)', async () => {
    const path = await file(makeZip([{ name: 'liar.jpg', data: Buffer.concat([jpeg, Buffer.alloc(1024 * 1024)]), declaredSize: jpeg.length }, { name: 'ok.jpg', data: jpeg }]))
    const inv = await inventory(path, 'liar.zip', LIMITS)
    expect(inv.skipped).toEqual({ unreadable: 1 })
    expect(inv.images.map((i) => i.name)).toEqual(['ok.jpg'])
  })
})

describe('inventory of a tar', () => {
  it('reads plain and gzipped tars alike and refuses links', async () => {
    for (const gzip of [false, true]) {
      const path = await file(
        await makeTar(
          [
            { name: 'a.jpg', data: jpeg },
            { name: 'dir', type: 'directory' },
            { name: 'dir/b.png', data: png },
            { name: 'link.jpg', type: 'symlink', linkname: '/etc/passwd' },
            { name: '../up.jpg', data: jpeg },
          ],
          { gzip },
        ),
      )
      const inv = await inventory(path, 'x.tar', LIMITS)
      expect(inv.kind).toBe(gzip ? 'tar.gz' : 'tar')
      expect(inv.images.map((i) => i.name)).toEqual(['a.jpg', 'dir/b.png'])
      expect(inv.skipped).toEqual({ not_a_file: 1, unsafe_name: 1 })
    }
  })

  it('refuses a gzip bomb at the byte limit', async () => {
    const path = await file(await makeTar([{ name: 'zeros.bin', data: Buffer.alloc(LIMITS.maxBytes + 1) }], { gzip: true }))
    expect(await refusal(inventory(path, 'bomb.tar.gz', LIMITS))).toBe('archive_too_large')
  })
})

describe('inventory of a single upload', () => {
  it('accepts one image and reads it back whole', async () => {
    const path = await file(jpeg)
    const inv = await inventory(path, 'part.jpg', LIMITS)
    expect(inv.images).toEqual([{ index: 0, name: 'part.jpg', mime: 'image/jpeg', width: 64, height: 48 }])
    for await (const f of frames(path, inv, LIMITS)) expect(Buffer.from(f.bytes).equals(jpeg)).toBe(true)
  })

  it('refuses a decompression-bomb PNG from its header', async () => {
    expect(await refusal(inventory(await file(bombPng()), 'bomb.png', LIMITS))).toBe('too_many_pixels')
  })

  it('refuses bytes that are neither an image nor an archive', async () => {
    expect(await refusal(inventory(await file(Buffer.from('#!/bin/sh\nrm -rf /\n')), 'x.sh', LIMITS))).toBe('unsupported_type')
  })
})
