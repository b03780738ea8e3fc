import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp, { type Sharp } from 'sharp'
import { describe, expect, test } from 'vitest'
import { LinearShrinker } from './linear-shrink.ts'
import { PixelBuffers } from './pixels.ts'
import { encodeThumbnail, letterboxInto, readHeader } from './preprocess.ts'
import { ROOT } from '../../test/helpers/server.ts'
import { InferenceError } from './types.ts'

const PAD = 114 / 255

/** A PNG, left half red and right half blue (lossless, so pixel values are exact). */
async function halves(width: number, height: number): Promise<Uint8Array> {
  const px = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[(y * width + x) * 3 + (x < width / 2 ? 0 : 2)] = 255
  return new Uint8Array(await sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer())
}

const at = (t: Float32Array, W: number, H: number, c: number, y: number, x: number) => t[c * W * H + y * W + x]!
const floats = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64')
/** One slot for a square model input, every float -1 so an unwritten one shows. */
const buffers = (size: number) => {
  const b = new PixelBuffers({ width: size, height: size, pad: 114 }, 1)
  b.tensor.fill(-1)
  return b
}

/** A w x h photo-like JPEG: smooth gradients and edges, where an IDCT's rounding shows. */
async function photo(w = 64, h = 48, extra?: (s: Sharp) => Sharp): Promise<Uint8Array> {
  const px = Buffer.alloc(w * h * 3)
  for (let i = 0; i < w * h; i++) {
    const x = i % w
    const y = Math.floor(i / w)
    px[i * 3] = (x * 4) & 255
    px[i * 3 + 1] = (y * 5 + (x > (w * 15) / 32 ? 90 : 0)) & 255
    px[i * 3 + 2] = ((x ^ y) * 7) & 255
  }
  const s = sharp(px, { raw: { width: w, height: h, channels: 3 } })
  return new Uint8Array(await (extra ? extra(s) : s).jpeg({ quality: 90 }).toBuffer())
}

describe('letterboxInto', () => {
  test('letterboxes into planar RGB 0..1 with grey 114 padding, as Ultralytics does', async () => {
    const b = buffers(32)
    const out = b.tensor
    const p = await letterboxInto(await halves(64, 32), b, 0, { maxPixels: 1e6 })
    // 64x32 -> 32x16, centred vertically: 8 rows of padding above and below.
    expect(p.letterbox).toMatchObject({ scale: 0.5, resizedWidth: 32, resizedHeight: 16, padX: 0, padY: 8 })
    expect([p.width, p.height]).toEqual([64, 32])
    for (const y of [0, 7, 24, 31]) for (const c of [0, 1, 2]) expect(at(out, 32, 32, c, y, 5)).toBeCloseTo(PAD, 6)
    // Inside: red on the left, blue on the right, channels in RGB order.
    expect([0, 1, 2].map((c) => at(out, 32, 32, c, 16, 4))).toEqual([1, 0, 0])
    expect([0, 1, 2].map((c) => at(out, 32, 32, c, 16, 28))).toEqual([0, 0, 1])
    expect(out.includes(-1)).toBe(false)
    expect(p.uprightJpeg).toBe(false) // a PNG
  })

  test('tells an upright JPEG (its own thumbnail when small) from a turned one', async () => {
    const upright = await sharp(await halves(40, 20)).jpeg().toBuffer()
    expect((await letterboxInto(new Uint8Array(upright), buffers(32), 0, { maxPixels: 1e6 })).uprightJpeg).toBe(true)
    const flipped = await sharp(await halves(40, 20)).jpeg().withMetadata({ orientation: 3 }).toBuffer()
    expect((await letterboxInto(new Uint8Array(flipped), buffers(32), 0, { maxPixels: 1e6 })).uprightJpeg).toBe(false)
  })

  test('reports the size after EXIF orientation, the frame detections are given in', async () => {
    const rotated = await sharp(await halves(40, 20)).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    const h = await readHeader(new Uint8Array(rotated), 1e6)
    expect([h.width, h.height]).toEqual([20, 40])
    const b = buffers(32)
    const out = b.tensor
    const p = await letterboxInto(new Uint8Array(rotated), b, 0, { maxPixels: 1e6 })
    expect([p.width, p.height, p.letterbox.resizedWidth, p.letterbox.resizedHeight]).toEqual([20, 40, 16, 32])
    // padded left and right (8 columns each), every float written
    for (const x of [0, 7, 24, 31]) for (const c of [0, 1, 2]) expect(at(out, 32, 32, c, 16, x)).toBeCloseTo(PAD, 6)
    expect(out.includes(-1)).toBe(false)
  })

  test('refuses an image over maxPixels from its header', async () => {
    const e = await letterboxInto(await halves(64, 32), buffers(32), 0, { maxPixels: 2047 }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(InferenceError)
    expect((e as InferenceError).code).toBe('too_many_pixels')
  })

  test('rejects a slot the buffers do not have', async () => {
    await expect(letterboxInto(await halves(8, 8), buffers(32), 1, { maxPixels: 1e6 })).rejects.toThrow(RangeError)
  })

  describe('a plain JPEG at the letterbox size (TurboJPEG, not libvips)', () => {
    const decodeBoth = async (jpeg: Uint8Array) => {
      const tb = buffers(64)
      const vb = buffers(64)
      const a = await letterboxInto(jpeg, tb, 0, { maxPixels: 1e6 })
      const b = await letterboxInto(jpeg, vb, 0, { maxPixels: 1e6, turboJpeg: false })
      const [turbo, vips] = [tb.tensor, vb.tensor]
      let sum = 0
      let max = 0
      for (let i = 0; i < turbo.length; i++) {
        const d = Math.abs(turbo[i]! - vips[i]!) * 255
        sum += d
        max = Math.max(max, d)
      }
      return { a, b, mean: sum / turbo.length, max, turbo, vips }
    }

    test('gives libvips pixels within the fast IDCT rounding, the same geometry and thumbnail pixels', async () => {
      const { a, b, mean, max } = await decodeBoth(await photo())
      expect(a.letterbox).toEqual(b.letterbox)
      expect([a.width, a.height, a.uprightJpeg]).toEqual([b.width, b.height, b.uprightJpeg])
      expect([a.rgb.width, a.rgb.height, a.rgb.data.length]).toEqual([64, 48, 64 * 48 * 3])
      // not identical (TurboJPEG's fast integer IDCT), and close: a grey level or so, a few at most
      expect(mean).toBeGreaterThan(0)
      expect(mean).toBeLessThan(2)
      expect(max).toBeLessThanOrEqual(12)
    })

    test('leaves a JPEG with a colour profile to libvips, which converts it to sRGB', async () => {
      const { mean } = await decodeBoth(await photo(64, 48, (s) => s.withIccProfile('p3')))
      expect(mean).toBe(0)
    })

    test("takes a browser's JPEG, whose profile is sRGB", async () => {
      const jpeg = new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/images/chromium-canvas-320x240.jpg')))
      const [tb, vb] = [buffers(320), buffers(320)]
      await letterboxInto(jpeg, tb, 0, { maxPixels: 1e6 })
      await letterboxInto(jpeg, vb, 0, { maxPixels: 1e6, turboJpeg: false })
      const [turbo, vips] = [tb.tensor, vb.tensor]
      const max = turbo.reduce((m, v, i) => Math.max(m, Math.abs(v - vips[i]!) * 255), 0)
      expect(max).toBeGreaterThan(0) // the fast IDCT: TurboJPEG decoded it
      expect(max).toBeLessThanOrEqual(12)
    })

    test('leaves a CMYK JPEG to libvips', async () => {
      const { mean, turbo } = await decodeBoth(await photo(64, 48, (s) => s.toColourspace('cmyk')))
      expect(mean).toBe(0)
      expect(turbo.some((v) => v > 0 && v !== PAD)).toBe(true)
    })

    test("decodes into its slot's pixel buffer, and a second slot leaves the first as it was", async () => {
      const jpeg = await photo()
      const two = new PixelBuffers({ width: 64, height: 64, pad: 114 }, 2)
      const a = await letterboxInto(jpeg, two, 0, { maxPixels: 1e6 })
      expect(a.rgb.data.buffer).toBe(two.rgbSlot(0).buffer)
      expect(a.rgb.data.byteOffset).toBe(two.rgbSlot(0).byteOffset)
      const first = floats(two.tensorSlot(0))
      const firstRgb = Buffer.from(a.rgb.data).toString('base64')
      const other = await sharp(await halves(64, 48)).jpeg().toBuffer()
      const b = await letterboxInto(new Uint8Array(other), two, 1, { maxPixels: 1e6 })
      expect(b.rgb.data.byteOffset).toBe(two.rgbSlot(1).byteOffset)
      expect(floats(two.tensorSlot(0))).toBe(first)
      expect(Buffer.from(a.rgb.data).toString('base64')).toBe(firstRgb)
      expect(floats(two.tensorSlot(1))).not.toBe(first)
    })

    test('a truncated JPEG is undecodable as before, whichever decoder tried first', async () => {
      const jpeg = await photo()
      const e = await letterboxInto(jpeg.subarray(0, jpeg.length >> 1), buffers(64), 0, { maxPixels: 1e6 }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(InferenceError)
      expect((e as InferenceError).code).toBe('undecodable')
    })
  })

  describe('a plain JPEG k times the letterbox size, with FULL_FRAME_DECODER=turbojpeg', () => {
    /** TurboJPEG's own pixels of the frame, shrunk k times by the kernel linear-shrink.test.ts holds to cv2.resize. */
    async function turboShrunk(jpeg: Uint8Array, k: number): Promise<Uint8Array> {
      const { default: jpegTurbo } = await import('@julusian/jpeg-turbo')
      const { width, height } = (await sharp(jpeg).metadata()) as { width: number; height: number }
      const s = new LinearShrinker()
      jpegTurbo.decompressSync(Buffer.from(jpeg), s.input(width, height), { format: jpegTurbo.FORMAT_RGB })
      return s.shrink(width, height, k)
    }

    test.each([
      [128, 96, 64, 2],
      [192, 108, 64, 3],
    ])('a %ix%i frame into a %i px input: TurboJPEG shrunk %i times, libvips geometry, pixels near libvips', async (w, h, size, k) => {
      const jpeg = await photo(w, h)
      const [mb, vb] = [buffers(size), buffers(size)]
      const a = await letterboxInto(jpeg, mb, 0, { maxPixels: 1e6, fullFrameDecoder: 'turbojpeg' })
      const b = await letterboxInto(jpeg, vb, 0, { maxPixels: 1e6 })
      expect(a.letterbox).toEqual(b.letterbox)
      expect([a.width, a.height, a.rgb.width, a.rgb.height]).toEqual([w, h, w / k, h / k])
      expect(Buffer.from(a.rgb.data).equals(Buffer.from(await turboShrunk(jpeg, k)))).toBe(true)
      const mean = mb.tensor.reduce((n, v, i) => n + Math.abs(v - vb.tensor[i]!) * 255, 0) / mb.tensor.length
      // another resampling, not libvips' pixels, and the same picture (at an odd k Ultralytics'
      // resize samples one pixel where libvips averages: a few grey levels on this busy pattern)
      expect(mean).toBeGreaterThan(0)
      expect(mean).toBeLessThan(6)
    })

    test("a batch's frames decoded together each get their own pixels", async () => {
      const [one, two] = [await photo(128, 96), await photo(128, 96, (s) => s.negate())]
      const b = new PixelBuffers({ width: 64, height: 64, pad: 114 }, 2)
      const [a0, a1] = await Promise.all([letterboxInto(one, b, 0, { maxPixels: 1e6, fullFrameDecoder: 'turbojpeg' }), letterboxInto(two, b, 1, { maxPixels: 1e6, fullFrameDecoder: 'turbojpeg' })])
      expect(Buffer.from(a0.rgb.data).equals(Buffer.from(await turboShrunk(one, 2)))).toBe(true)
      expect(Buffer.from(a1.rgb.data).equals(Buffer.from(await turboShrunk(two, 2)))).toBe(true)
    })

    test('off by default, and not taken where libvips must resize or convert: libvips pixels exactly', async () => {
      const same = async (jpeg: Uint8Array, size: number) => {
        const [mb, vb] = [buffers(size), buffers(size)]
        await letterboxInto(jpeg, mb, 0, { maxPixels: 1e6, fullFrameDecoder: 'turbojpeg' })
        await letterboxInto(jpeg, vb, 0, { maxPixels: 1e6, turboJpeg: false })
        return floats(mb.tensor) === floats(vb.tensor)
      }
      const jpeg = await photo(128, 96)
      const [db, vb] = [buffers(64), buffers(64)]
      await letterboxInto(jpeg, db, 0, { maxPixels: 1e6 })
      await letterboxInto(jpeg, vb, 0, { maxPixels: 1e6, turboJpeg: false })
      expect(floats(db.tensor)).toBe(floats(vb.tensor))
      // 1.5 times, not a whole multiple
      expect(await same(await photo(96, 72), 64)).toBe(true)
      // a colour profile other than sRGB
      expect(await same(await photo(128, 96, (s) => s.withIccProfile('p3')), 64)).toBe(true)
      // stored rotated (EXIF orientation 6)
      expect(await same(await photo(128, 96, (s) => s.withMetadata({ orientation: 6 })), 64)).toBe(true)
    })
  })
})

describe('encodeThumbnail', () => {
  /** Mean absolute difference, in grey levels, between two RGB buffers of the same size. */
  const meanDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length

  test('encodes pixels within the size as they are, and shrinks larger ones to fit', async () => {
    const src = await sharp(readFileSync(join(ROOT, 'test/fixtures/images/chromium-canvas-320x240.jpg'))).raw().toBuffer({ resolveWithObject: true })
    const rgb = { data: new Uint8Array(src.data), width: src.info.width, height: src.info.height }
    const small = await encodeThumbnail(rgb, 320)
    expect(small.byteLength).toBe(small.buffer.byteLength) // transferable as it is, no larger buffer behind it
    const back = await sharp(small).raw().toBuffer({ resolveWithObject: true })
    expect([back.info.width, back.info.height, back.info.channels]).toEqual([320, 240, 3])
    expect(meanDiff(back.data, rgb.data)).toBeLessThan(3)
    const shrunk = await sharp(await encodeThumbnail(rgb, 160)).metadata()
    expect([shrunk.format, shrunk.width, shrunk.height]).toEqual(['jpeg', 160, 120])
  })
})
