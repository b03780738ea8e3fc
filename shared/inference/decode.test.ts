import { describe, expect, it } from 'vitest'
import { decodeDetections } from './decode.ts'
import { detectOutputFormat, UnknownOutputFormatError } from './formats.ts'
import { computeLetterbox } from './letterbox.ts'

const classes = ['part', 'scratch', 'dent']

/** Builds a yolov8 [1, 4+nc, A] tensor with the given anchors set. */
function yolov8(anchors: number, set: { a: number; box: [number, number, number, number]; cls: number; score: number }[]) {
  const nc = classes.length
  const data = new Float32Array((4 + nc) * anchors)
  for (const s of set) {
    s.box.forEach((v, i) => (data[i * anchors + s.a] = v))
    data[(4 + s.cls) * anchors + s.a] = s.score
  }
  return { data, dims: [1, 4 + nc, anchors] }
}

describe('decodeDetections', () => {
  it('decodes yolov8 output and suppresses overlapping boxes of the same class', () => {
    const out = yolov8(100, [
      { a: 3, box: [50, 50, 20, 20], cls: 1, score: 0.9 },
      { a: 4, box: [51, 50, 20, 20], cls: 1, score: 0.8 }, // duplicate of a=3
      { a: 5, box: [51, 50, 20, 20], cls: 2, score: 0.7 }, // other class, kept
      { a: 9, box: [10, 10, 4, 4], cls: 0, score: 0.1 }, // under threshold
    ])
    const dets = decodeDetections(out, { classes, scoreThreshold: 0.25, iouThreshold: 0.5 })
    expect(dets.map((d) => [d.class, d.score.toFixed(1)])).toEqual([
      ['scratch', '0.9'],
      ['dent', '0.7'],
    ])
    expect(dets[0]!.box).toEqual([40, 40, 60, 60])
  })

  it('applies per-class thresholds', () => {
    const out = yolov8(10, [
      { a: 0, box: [5, 5, 2, 2], cls: 0, score: 0.5 },
      { a: 1, box: [50, 50, 2, 2], cls: 1, score: 0.5 },
    ])
    const dets = decodeDetections(out, { classes, scoreThreshold: [0.6, 0.4, 0.4], iouThreshold: 0.5 })
    expect(dets.map((d) => d.class)).toEqual(['scratch'])
  })

  it('decodes yolov5 output with objectness', () => {
    const nc = classes.length
    const anchors = 50
    const data = new Float32Array(anchors * (5 + nc))
    const put = (a: number, v: number[]) => data.set(v, a * (5 + nc))
    put(7, [100, 100, 40, 20, 0.9, 0.1, 0.1, 0.8]) // dent, 0.72
    put(8, [100, 100, 40, 20, 0.2, 0.9, 0.1, 0.1]) // part, 0.18: below threshold
    const dets = decodeDetections({ data, dims: [1, anchors, 5 + nc] }, { classes, scoreThreshold: 0.25, iouThreshold: 0.5 })
    expect(dets).toHaveLength(1)
    expect(dets[0]!.class).toBe('dent')
    expect(dets[0]!.score).toBeCloseTo(0.72, 5)
    expect(dets[0]!.box).toEqual([80, 90, 120, 110])
  })

  it('decodes end-to-end output without NMS', () => {
    const data = new Float32Array(300 * 6)
    data.set([10, 20, 30, 40, 0.95, 2], 0)
    data.set([11, 20, 30, 40, 0.9, 2], 6) // overlapping but already NMS-ed by the model: kept
    data.set([0, 0, 5, 5, 0.01, 1], 12)
    const dets = decodeDetections({ data, dims: [1, 300, 6] }, { classes, scoreThreshold: 0.25, iouThreshold: 0.5 })
    expect(dets.map((d) => [d.class, d.box[0]])).toEqual([
      ['dent', 10],
      ['dent', 11],
    ])
  })

  it('maps boxes back through the letterbox to source pixels', () => {
    const lb = computeLetterbox(640, 480, 320, 320) // scale 0.5, pad top 40
    expect([lb.scale, lb.padX, lb.padY]).toEqual([0.5, 0, 40])
    const out = yolov8(10, [{ a: 0, box: [160, 160, 100, 50], cls: 1, score: 0.9 }])
    const [d] = decodeDetections(out, { classes, scoreThreshold: 0.25, iouThreshold: 0.5, letterbox: lb })
    expect(d!.box).toEqual([220, 190, 420, 290])
  })

  it('decodes the requested image of a batch', () => {
    const one = yolov8(10, [{ a: 2, box: [5, 5, 2, 2], cls: 0, score: 0.9 }])
    const two = yolov8(10, [{ a: 2, box: [7, 7, 2, 2], cls: 2, score: 0.9 }])
    const data = new Float32Array(one.data.length * 2)
    data.set(one.data)
    data.set(two.data, one.data.length)
    const dets = decodeDetections({ data, dims: [2, 7, 10] }, { classes, scoreThreshold: 0.25, iouThreshold: 0.5, batchIndex: 1 })
    expect(dets.map((d) => d.class)).toEqual(['dent'])
  })
})

describe('detectOutputFormat', () => {
  it('tells the three layouts apart from shapes and class counts', () => {
    expect(detectOutputFormat([1, 84, 8400]).format).toBe('yolov8')
    expect(detectOutputFormat([1, 84, 8400]).numClasses).toBe(80)
    expect(detectOutputFormat([1, 25200, 85]).format).toBe('yolov5')
    expect(detectOutputFormat([1, 300, 6]).format).toBe('end2end')
    // one-class YOLOv5 also ends in 6; its anchor count gives it away
    expect(detectOutputFormat([1, 6300, 6], { numClasses: 1 }).format).toBe('yolov5')
    expect(detectOutputFormat([1, 5, 2100], { numClasses: 1 }).format).toBe('yolov8')
  })

  it('fails with an error that names the shape it saw', () => {
    expect(() => detectOutputFormat([1, 1000])).toThrow(UnknownOutputFormatError)
    expect(() => detectOutputFormat([1, 1000])).toThrow(/\[1, 1000\]/)
    expect(() => detectOutputFormat([1, 7, 2100], { numClasses: 5 })).toThrow(/does not fit 5 classes/)
  })
})
