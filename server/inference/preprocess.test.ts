import sharp from 'sharp'
import { describe, expect, test } from 'vitest'
import { letterboxInto, readHeader } from './preprocess.ts'
import { InferenceError } from './types.ts'

const PAD = 114 / 255

/** A PNG, left half red and right half blue (lossless, so pixel values are exact). */
async function halves(width: number, height: number): Promise<Uint8Array> {
  const px = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[(y * width + x) * 3 + (x < width / 2 ? 0 : 2)] = 255
  return new Uint8Array(await sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer())
}

const at = (t: Float32Array, W: number, H: number, c: number, y: number, x: number) => t[c * W * H + y * W + x]!

describe('letterboxInto', () => {
  test('letterboxes into planar RGB 0..1 with grey 114 padding, as Ultralytics does', async () => {
    const out = new Float32Array(3 * 32 * 32).fill(-1)
    const p = await letterboxInto(await halves(64, 32), out, { width: 32, height: 32, pad: 114 }, { maxPixels: 1e6 })
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
    const slot = () => new Float32Array(3 * 32 * 32)
    const target = { width: 32, height: 32, pad: 114 }
    const upright = await sharp(await halves(40, 20)).jpeg().toBuffer()
    expect((await letterboxInto(new Uint8Array(upright), slot(), target, { maxPixels: 1e6 })).uprightJpeg).toBe(true)
    const flipped = await sharp(await halves(40, 20)).jpeg().withMetadata({ orientation: 3 }).toBuffer()
    expect((await letterboxInto(new Uint8Array(flipped), slot(), target, { maxPixels: 1e6 })).uprightJpeg).toBe(false)
  })

  test('reports the size after EXIF orientation, the frame detections are given in', async () => {
    const rotated = await sharp(await halves(40, 20)).jpeg().withMetadata({ orientation: 6 }).toBuffer()
    const h = await readHeader(new Uint8Array(rotated), 1e6)
    expect([h.width, h.height]).toEqual([20, 40])
    const out = new Float32Array(3 * 32 * 32).fill(-1)
    const p = await letterboxInto(new Uint8Array(rotated), out, { width: 32, height: 32, pad: 114 }, { maxPixels: 1e6 })
    expect([p.width, p.height, p.letterbox.resizedWidth, p.letterbox.resizedHeight]).toEqual([20, 40, 16, 32])
    // padded left and right (8 columns each), every float written
    for (const x of [0, 7, 24, 31]) for (const c of [0, 1, 2]) expect(at(out, 32, 32, c, 16, x)).toBeCloseTo(PAD, 6)
    expect(out.includes(-1)).toBe(false)
  })

  test('refuses an image over maxPixels from its header', async () => {
    const e = await letterboxInto(await halves(64, 32), new Float32Array(3 * 32 * 32), { width: 32, height: 32, pad: 114 }, { maxPixels: 2047 }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(InferenceError)
    expect((e as InferenceError).code).toBe('too_many_pixels')
  })

  test('rejects a tensor slot of the wrong size before decoding', async () => {
    await expect(letterboxInto(await halves(8, 8), new Float32Array(10), { width: 32, height: 32, pad: 114 }, { maxPixels: 1e6 })).rejects.toThrow(RangeError)
  })
})
