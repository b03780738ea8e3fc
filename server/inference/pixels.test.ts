import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { computeLetterbox } from '../../shared/inference/letterbox.ts'
import { assemble, WASM_FILE } from './planar-build.ts'
import { PixelBuffers } from './pixels.ts'

/** Deterministic, every byte value present, no run of 16 alike (so a wrong shuffle lane shows). */
const noise = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729 + ((i * i) >> 3)) & 255)

describe('PixelBuffers', () => {
  test('planar.wasm is the build of planar.wat (npm run wasm:build)', async () => {
    expect(Buffer.from(await assemble()).equals(readFileSync(WASM_FILE))).toBe(true)
  })

  // widths around the kernel's 16-pixel step: whole steps, a tail only, both
  test.each([
    [320, 240, 320, 320],
    [317, 239, 320, 320],
    [15, 9, 32, 16],
    [48, 48, 48, 48],
  ])('a %ix%i image in %ix%i: every float is i / 255 of its byte, in planar RGB, padding grey', (w, h, W, H) => {
    const b = new PixelBuffers({ width: W, height: H, pad: 114 }, 1)
    b.tensor.fill(-1)
    const rgb = noise(w * h * 3, w)
    const lb = { ...computeLetterbox(w, h, W, H), resizedWidth: w, resizedHeight: h, padX: (W - w) >> 1, padY: (H - h) >> 1 }
    b.letterbox(0, rgb, lb)
    const pad = Math.fround(114 / 255)
    let wrong = 0
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const sx = x - lb.padX
          const sy = y - lb.padY
          const inside = sx >= 0 && sx < w && sy >= 0 && sy < h
          const want = inside ? Math.fround(rgb[(sy * w + sx) * 3 + c]! / 255) : pad
          if (b.tensor[c * W * H + y * W + x] !== want) wrong++
        }
      }
    }
    expect(wrong).toBe(0)
  })

  test("pixels already in the slot's buffer are used where they lie; others are copied there", () => {
    const b = new PixelBuffers({ width: 32, height: 32, pad: 0 }, 2)
    const lb = computeLetterbox(32, 32, 32, 32)
    const outside = noise(32 * 32 * 3, 1)
    const inSlot = b.letterbox(1, outside, lb)
    expect(inSlot.byteOffset).toBe(b.rgbSlot(1).byteOffset)
    expect(Buffer.from(inSlot).equals(Buffer.from(outside))).toBe(true)
    const tensor = Buffer.from(b.tensor.buffer, b.tensorSlot(1).byteOffset, b.tensorSlot(1).byteLength).toString('base64')
    // written in place by a decoder: the same floats without a copy
    b.rgbSlot(0).set(outside)
    b.letterbox(0, b.rgbSlot(0).subarray(0, outside.length), lb)
    expect(Buffer.from(b.tensor.buffer, b.tensorSlot(0).byteOffset, b.tensorSlot(0).byteLength).toString('base64')).toBe(tensor)
  })

  test('refuses what does not fit before writing anything', () => {
    const b = new PixelBuffers({ width: 16, height: 16, pad: 114 }, 1)
    b.tensor.fill(-1)
    const lb = computeLetterbox(16, 16, 16, 16)
    expect(() => b.letterbox(0, new Uint8Array(10), lb)).toThrow(/10 bytes of RGB for a 16x16/)
    expect(() => b.letterbox(0, new Uint8Array(17 * 16 * 3), { ...lb, resizedWidth: 17 })).toThrow(/does not fit/)
    expect(() => b.letterbox(1, new Uint8Array(16 * 16 * 3), lb)).toThrow(/slot 1 of 1/)
    expect(b.tensor.every((v) => v === -1)).toBe(true)
    expect(() => new PixelBuffers({ width: 16, height: 16, pad: 256 }, 1)).toThrow(/0\.\.255/)
    expect(() => new PixelBuffers({ width: 0, height: 16, pad: 0 }, 1)).toThrow(RangeError)
  })
})
