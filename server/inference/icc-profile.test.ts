import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { describe, expect, test } from 'vitest'
import { ROOT } from '../../test/helpers/server.ts'
import { isSrgbProfile } from './icc-profile.ts'
import { sniffImageSize } from './image-header.ts'

/** A JPEG made by Chromium 156: OffscreenCanvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 }), as a station encodes. */
const CHROMIUM_JPEG = new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/images/chromium-canvas-320x240.jpg')))

async function profileOf(jpeg: Uint8Array): Promise<Uint8Array> {
  const icc = (await sharp(jpeg).metadata()).icc
  if (!icc) throw new Error('no profile')
  return new Uint8Array(icc)
}

const withProfile = async (name: string) => new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).withIccProfile(name).jpeg().toBuffer())

describe('isSrgbProfile', () => {
  test("takes Chromium's canvas profile and libvips' sRGB profile as sRGB", async () => {
    expect(isSrgbProfile(await profileOf(CHROMIUM_JPEG))).toBe(true)
    expect(isSrgbProfile(await profileOf(await withProfile('srgb')))).toBe(true)
    expect(sniffImageSize(CHROMIUM_JPEG)).toEqual({ width: 320, height: 240, format: 'jpeg', orientation: 1, profile: 'srgb' })
  })

  test('refuses other primaries (Display P3) and other colour spaces (CMYK)', async () => {
    expect(isSrgbProfile(await profileOf(await withProfile('p3')))).toBe(false)
    expect(isSrgbProfile(await profileOf(await withProfile('cmyk')))).toBe(false)
    expect(sniffImageSize(await withProfile('p3'))?.profile).toBe('other')
  })

  test('refuses sRGB primaries with a linear tone curve', async () => {
    const p = new Uint8Array(await profileOf(CHROMIUM_JPEG))
    const view = new DataView(p.buffer)
    for (let i = 0; i < view.getUint32(128); i++) {
      const o = 132 + i * 12
      const sig = String.fromCharCode(...p.subarray(o, o + 4))
      // Chromium's curves are 'para' type 4; gamma 1 and a = 1, b = 0 make x -> x above d
      if (sig.endsWith('TRC')) {
        const at = view.getUint32(o + 4)
        view.setInt32(at + 12, 65536)
        view.setInt32(at + 16, 65536)
        view.setInt32(at + 20, 0)
      }
    }
    expect(isSrgbProfile(p)).toBe(false)
  })

  test('refuses a truncated or foreign profile without throwing', async () => {
    const p = await profileOf(CHROMIUM_JPEG)
    for (const cut of [0, 10, 131, 200, p.length - 1]) expect(isSrgbProfile(p.subarray(0, cut))).toBe(false)
    expect(isSrgbProfile(new Uint8Array(600).fill(0x41))).toBe(false)
  })
})
