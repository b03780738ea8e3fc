import { describe, expect, test } from 'vitest'
import { LinearShrinker, MAX_SHRINK_PIXELS, shrinkFactor } from './linear-shrink.ts'

/**
 * cv2.resize(INTER_LINEAR) from its definition: output pixel x samples source x' = (x + 0.5) w / ow
 * - 0.5, weighting the two pixels around it by distance, in both directions; uint8 results rounded
 * half up (OpenCV's fixed point rounds so where the weights are exact, as they are here).
 */
function reference(rgb: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh * 3)
  const taps = (o: number, n: number, on: number) => {
    const x = (o + 0.5) * (n / on) - 0.5
    const x0 = Math.floor(x)
    return [
      [x0, 1 - (x - x0)],
      [Math.min(x0 + 1, n - 1), x - x0],
    ] as const
  }
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let c = 0; c < 3; c++) {
        let v = 0
        for (const [y, wy] of taps(oy, h, oh)) for (const [x, wx] of taps(ox, w, ow)) v += wy * wx * rgb[(y * w + x) * 3 + c]!
        out[(oy * ow + ox) * 3 + c] = Math.floor(v + 0.5)
      }
  return out
}

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

describe('LinearShrinker', () => {
  test.each([
    [640, 480, 2],
    [1920, 1080, 6],
    [1920, 1080, 3],
    [30, 20, 5],
    [32, 48, 16],
    [7, 14, 7],
    [36, 12, 4],
  ])('a %ix%i frame shrunk %i times: every byte is what cv2.resize INTER_LINEAR gives', (w, h, k) => {
    const s = new LinearShrinker()
    const rgb = random(w * h * 3, w * 31 + k)
    s.input(w, h).set(rgb)
    expect(Buffer.from(s.shrink(w, h, k)).equals(Buffer.from(reference(rgb, w, h, w / k, h / k)))).toBe(true)
  })

  test('rounds half up, from black to white', () => {
    const s = new LinearShrinker()
    for (const k of [2, 4]) {
      for (const v of [0, 1, 127, 128, 254, 255]) {
        // one pixel a step off in each 2 x 2 window: a sum of 4v + 1, or 4v - 1 at white
        const rgb = new Uint8Array(k * 8 * k * 3).fill(v)
        for (let i = 0; i < 8; i++) rgb[(((k - 2) / 2) * k * 8 + i * k + (k - 2) / 2) * 3] = v === 255 ? 254 : v + 1
        s.input(k * 8, k).set(rgb)
        expect(Buffer.from(s.shrink(k * 8, k, k)).equals(Buffer.from(reference(rgb, k * 8, k, 8, 1)))).toBe(true)
      }
    }
  })

  test('a smaller frame after a larger one reuses the memory and reads only its own pixels', () => {
    const s = new LinearShrinker()
    s.input(64, 64).fill(255)
    s.shrink(64, 64, 2)
    const rgb = random(8 * 6 * 3, 3)
    s.input(8, 6).set(rgb)
    expect(Buffer.from(s.shrink(8, 6, 2)).equals(Buffer.from(reference(rgb, 8, 6, 4, 3)))).toBe(true)
  })

  test('refuses what it cannot do', () => {
    const s = new LinearShrinker()
    expect(() => s.input(1921, 1080)).toThrow(RangeError)
    expect(() => s.input(MAX_SHRINK_PIXELS + 1, 1)).toThrow(RangeError)
    s.input(30, 20)
    expect(() => s.shrink(30, 20, 4)).toThrow(/does not shrink 4 times/)
    expect(() => s.shrink(30, 20, 1)).toThrow(/does not shrink 1 times/)
    expect(() => s.shrink(1920, 1080, 2)).toThrow(/without input/)
  })
})

describe('shrinkFactor', () => {
  test('whole multiples of the letterbox from 2 up', () => {
    expect(shrinkFactor(640, 480, { width: 320, height: 240 })).toBe(2)
    expect(shrinkFactor(1920, 1080, { width: 320, height: 180 })).toBe(6)
    expect(shrinkFactor(320, 240, { width: 320, height: 240 })).toBeUndefined()
    expect(shrinkFactor(810, 1080, { width: 240, height: 320 })).toBeUndefined()
    expect(shrinkFactor(640, 482, { width: 320, height: 241 })).toBe(2)
    expect(shrinkFactor(640, 481, { width: 320, height: 240 })).toBeUndefined()
  })
})
