import { describe, expect, it } from 'vitest'
import { areaResize, areaResizeInto, type Pixels } from './pixels.ts'

function image(width: number, height: number, at: (x: number, y: number) => [number, number, number]): Pixels {
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b] = at(x, y)
      data.set([r, g, b, 255], (y * width + x) * 4)
    }
  return { data, width, height }
}

describe('area resize', () => {
  it('averages each 4x4 block and rounds to 8 bits, as the prefilter was calibrated', () => {
    // a 8x4 image whose red grows along x, green along y, blue constant
    const src = image(8, 4, (x, y) => [x * 10, y * 30, 7])
    const out = areaResize(src, new Float32Array(3 * 2 * 1), 2, 1)
    // left block: red mean of 0,10,20,30 = 15; right block: 40..70 = 55; green mean of 0..90 = 45
    expect(Array.from(out, (v) => Math.round(v * 255))).toEqual([15, 55, 45, 45, 7, 7])
  })

  it('rounds half up like PIL', () => {
    const src = image(2, 1, (x) => [x, 0, 0]) // mean 0.5
    expect(Math.round(areaResize(src, new Float32Array(3), 1, 1)[0]! * 255)).toBe(1)
  })

  it('keeps a uniform image uniform through a non-integer ratio', () => {
    const src = image(13, 7, () => [200, 100, 50])
    const out = areaResize(src, new Float32Array(3 * 5 * 3), 5, 3)
    expect(new Set(Array.from(out, (v) => Math.round(v * 255)))).toEqual(new Set([200, 100, 50]))
  })

  it('upscales by repeating pixels instead of leaving holes', () => {
    const src = image(2, 1, (x) => [x ? 255 : 0, 0, 0])
    const out = areaResize(src, new Float32Array(3 * 4), 4, 1)
    expect(Array.from(out.subarray(0, 4), (v) => Math.round(v * 255))).toEqual([0, 0, 255, 255])
  })

  it('writes only inside the letterbox rectangle and leaves the padding to the caller', () => {
    const src = image(4, 2, () => [255, 255, 255])
    const out = new Float32Array(3 * 4 * 4).fill(114 / 255)
    areaResizeInto(src, out, 4, 4, { x: 0, y: 1, width: 4, height: 2 })
    const red = Array.from(out.subarray(0, 16), (v) => Math.round(v * 255))
    expect(red).toEqual([114, 114, 114, 114, 255, 255, 255, 255, 255, 255, 255, 255, 114, 114, 114, 114])
  })

  it('refuses a rectangle outside the tensor', () => {
    const src = image(4, 4, () => [0, 0, 0])
    expect(() => areaResizeInto(src, new Float32Array(48), 4, 4, { x: 1, y: 0, width: 4, height: 4 })).toThrow(RangeError)
  })
})
