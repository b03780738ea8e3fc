import { describe, expect, it } from 'vitest'
import { computeLetterbox, iou, unletterboxBox, uplinkBoxToFrame, uplinkSize, type Box } from './letterbox.ts'

describe('model-size uplink geometry', () => {
  it('resizes a camera frame to the model input with its aspect kept and no padding', () => {
    expect(uplinkSize({ width: 640, height: 480 }, { width: 320, height: 320 })).toEqual({ width: 320, height: 240 })
    expect(uplinkSize({ width: 810, height: 1080 }, { width: 640, height: 640 })).toEqual({ width: 480, height: 640 })
    expect(uplinkSize({ width: 1920, height: 1080 }, { width: 320, height: 320 })).toEqual({ width: 320, height: 180 })
    // smaller than the model: sent as it is, the server letterboxes it as before
    expect(uplinkSize({ width: 200, height: 100 }, { width: 320, height: 320 })).toEqual({ width: 200, height: 100 })
  })

  it('the server letterboxing the uplink image lands every pixel where letterboxing the camera frame would', () => {
    for (const [w, h, mw, mh] of [[640, 480, 320, 320], [1920, 1080, 640, 640], [810, 1080, 320, 320], [2592, 1944, 640, 384], [333, 777, 320, 320]] as const) {
      const direct = computeLetterbox(w, h, mw, mh)
      const image = uplinkSize({ width: w, height: h }, { width: mw, height: mh })
      const twice = computeLetterbox(image.width, image.height, mw, mh)
      expect([twice.resizedWidth, twice.resizedHeight, twice.padX, twice.padY]).toEqual([direct.resizedWidth, direct.resizedHeight, direct.padX, direct.padY])
    }
  })

  it('maps a box from the uplink image back to camera pixels, as one letterbox of the camera frame would', () => {
    const frame = { width: 1920, height: 1080 }
    const input = { width: 640, height: 640 }
    const image = uplinkSize(frame, input)
    const inModel: Box = [100.5, 200.25, 300, 410]
    const direct = unletterboxBox(inModel, computeLetterbox(frame.width, frame.height, input.width, input.height))
    const viaUplink = uplinkBoxToFrame(unletterboxBox(inModel, computeLetterbox(image.width, image.height, input.width, input.height)), frame, image)
    for (let i = 0; i < 4; i++) expect(viaUplink[i]).toBeCloseTo(direct[i]!, 6)
    expect(iou(direct, viaUplink)).toBeGreaterThan(0.999)
  })

  it('clips a mapped box to the camera frame', () => {
    expect(uplinkBoxToFrame([-5, -5, 400, 400], { width: 640, height: 480 }, { width: 320, height: 240 })).toEqual([0, 0, 640, 480])
  })
})
