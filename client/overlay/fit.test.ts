import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boxToScreen, containFit, coverFit } from './fit.ts'

describe('overlay box scaling', () => {
  it('puts a 640x480 frame shown in a 1280x800 view in a pillarbox and scales boxes by 5/3', () => {
    const fit = containFit(640, 480, 1280, 800)
    expect(fit.scale).toBeCloseTo(800 / 480)
    expect(fit.offsetX).toBeCloseTo((1280 - 640 * (800 / 480)) / 2)
    expect(fit.offsetY).toBe(0)
    const r = boxToScreen([64, 48, 320, 240], fit, 640, 480)
    expect(r.left).toBeCloseTo(fit.offsetX + 64 * fit.scale)
    expect(r.top).toBeCloseTo(80)
    expect(r.width).toBeCloseTo(256 * fit.scale)
    expect(r.height).toBeCloseTo(320)
  })

  it('letterboxes a wide frame in a tall view, with bars above and below', () => {
    const fit = containFit(1920, 1080, 800, 1280)
    expect(fit.scale).toBeCloseTo(800 / 1920)
    expect(fit.offsetX).toBe(0)
    expect(fit.offsetY).toBeCloseTo((1280 - 1080 * (800 / 1920)) / 2)
  })

  it('maps the whole image to the whole element when cover crops it', () => {
    const fit = coverFit(640, 480, 1280, 800)
    const r = boxToScreen([0, 0, 640, 480], fit, 640, 480)
    expect(r.left).toBeLessThanOrEqual(0)
    expect(r.top).toBeLessThanOrEqual(0)
    expect(r.left + r.width).toBeGreaterThanOrEqual(1280 - 1e-9)
    expect(r.top + r.height).toBeGreaterThanOrEqual(800 - 1e-9)
  })

  it('keeps every box inside the displayed image, even boxes the model put partly outside it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.tuple(fc.double({ min: -500, max: 5000, noNaN: true }), fc.double({ min: -500, max: 5000, noNaN: true }), fc.double({ min: -500, max: 5000, noNaN: true }), fc.double({ min: -500, max: 5000, noNaN: true })),
        (iw, ih, vw, vh, box) => {
          const fit = containFit(iw, ih, vw, vh)
          const r = boxToScreen(box, fit, iw, ih)
          const eps = 1e-6 * Math.max(vw, vh)
          expect(r.width).toBeGreaterThanOrEqual(0)
          expect(r.height).toBeGreaterThanOrEqual(0)
          expect(r.left).toBeGreaterThanOrEqual(fit.offsetX - eps)
          expect(r.top).toBeGreaterThanOrEqual(fit.offsetY - eps)
          expect(r.left + r.width).toBeLessThanOrEqual(fit.offsetX + iw * fit.scale + eps)
          expect(r.top + r.height).toBeLessThanOrEqual(fit.offsetY + ih * fit.scale + eps)
        },
      ),
    )
  })

  it('accepts boxes with swapped corners', () => {
    const fit = containFit(100, 100, 100, 100)
    expect(boxToScreen([50, 60, 10, 20], fit, 100, 100)).toEqual({ left: 10, top: 20, width: 40, height: 40 })
  })

  it('draws nothing before the video has a size', () => {
    const fit = containFit(0, 0, 1280, 800)
    expect(fit.scale).toBe(0)
    expect(boxToScreen([10, 10, 50, 50], fit, 0, 0)).toEqual({ left: 0, top: 0, width: 0, height: 0 })
  })
})
