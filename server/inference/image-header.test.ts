import sharp from 'sharp'
import { describe, expect, test } from 'vitest'
import { sniffImageSize } from './image-header.ts'

const solid = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } })

describe('sniffImageSize', () => {
  test('reads the size of a JPEG and a PNG as libvips does', async () => {
    for (const [w, h] of [[640, 480], [810, 1080], [1, 1], [4000, 3000]] as const) {
      const jpeg = new Uint8Array(await solid(w, h).jpeg().toBuffer())
      const png = new Uint8Array(await solid(w, h).png().toBuffer())
      expect(sniffImageSize(jpeg)).toEqual({ width: w, height: h, format: 'jpeg', orientation: 1 })
      expect(sniffImageSize(png)).toEqual({ width: w, height: h, format: 'png', orientation: 1 })
    }
  })

  test('reads the EXIF orientation, and swaps the sides of a JPEG it turns a quarter', async () => {
    for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const jpeg = new Uint8Array(await solid(40, 20).jpeg().withMetadata({ orientation }).toBuffer())
      const meta = await sharp(jpeg).metadata()
      expect(meta.hasProfile).toBe(true) // withMetadata embeds sharp's sRGB profile
      expect(sniffImageSize(jpeg)).toEqual({ width: meta.autoOrient.width, height: meta.autoOrient.height, format: 'jpeg', orientation, profile: 'srgb' })
    }
  })

  test('reads a progressive JPEG with EXIF and ICC segments before the frame header', async () => {
    const jpeg = new Uint8Array(await solid(321, 123).withMetadata({ orientation: 1 }).withIccProfile('srgb').jpeg({ progressive: true }).toBuffer())
    expect(sniffImageSize(jpeg)).toEqual({ width: 321, height: 123, format: 'jpeg', orientation: 1, profile: 'srgb' })
  })

  test('leaves WebP, truncated and foreign bytes to libvips', async () => {
    const jpeg = new Uint8Array(await solid(64, 48).jpeg().toBuffer())
    expect(sniffImageSize(new Uint8Array(await solid(64, 48).webp().toBuffer()))).toBeUndefined()
    expect(sniffImageSize(jpeg.subarray(0, 20))).toBeUndefined()
    expect(sniffImageSize(new TextEncoder().encode('<svg width="10" height="10"/>'))).toBeUndefined()
    expect(sniffImageSize(new Uint8Array(0))).toBeUndefined()
  })
})
