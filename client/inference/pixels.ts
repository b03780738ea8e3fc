/**
 * RGBA pixels -> planar RGB floats 0..1 (NCHW, one image), resized by area averaging.
 *
 * Area averaging, not the canvas's own smoothing: the prefilter's sharpness threshold was
 * calibrated on a 4x4 box average (models/tools/train_prefilter.py, PIL `reduce(4)`), and a
 * bilinear or Lanczos downscale of the same frame measures 2-3x less sharpness, which would call
 * every frame blurred. Each output pixel is the rounded mean of the source block it covers, like
 * PIL, so a 640x480 frame gives exactly the tensor the thresholds were set on.
 */

export interface Pixels {
  /** RGBA, row-major, as `ImageData.data`. */
  data: Uint8ClampedArray
  width: number
  height: number
}

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

/** Source range [start, end) of each destination column (or row); never empty, so upscaling repeats pixels. */
function blocks(src: number, dst: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(dst)
  const end = new Int32Array(dst)
  for (let i = 0; i < dst; i++) {
    start[i] = Math.floor((i * src) / dst)
    end[i] = Math.max(start[i]! + 1, Math.floor(((i + 1) * src) / dst))
  }
  return { start, end }
}

/**
 * Writes `src` resized into `rect` of a `tensorWidth` x `tensorHeight` planar tensor; pixels of the
 * tensor outside `rect` are left as they are (the caller fills the letterbox padding).
 */
export function areaResizeInto(src: Pixels, out: Float32Array, tensorWidth: number, tensorHeight: number, rect: Rect): void {
  const plane = tensorWidth * tensorHeight
  if (out.length < 3 * plane) throw new RangeError(`tensor of ${out.length} floats is smaller than 3x${tensorWidth}x${tensorHeight}`)
  if (rect.x < 0 || rect.y < 0 || rect.x + rect.width > tensorWidth || rect.y + rect.height > tensorHeight) {
    throw new RangeError(`rect ${rect.width}x${rect.height}+${rect.x}+${rect.y} is outside the ${tensorWidth}x${tensorHeight} tensor`)
  }
  const xs = blocks(src.width, rect.width)
  const ys = blocks(src.height, rect.height)
  const d = src.data
  const rowSums = new Float64Array(rect.width * 3)
  for (let oy = 0; oy < rect.height; oy++) {
    rowSums.fill(0)
    const y0 = ys.start[oy]!
    const y1 = ys.end[oy]!
    for (let sy = y0; sy < y1; sy++) {
      const row = sy * src.width * 4
      for (let ox = 0; ox < rect.width; ox++) {
        let r = 0
        let g = 0
        let b = 0
        for (let p = row + xs.start[ox]! * 4, end = row + xs.end[ox]! * 4; p < end; p += 4) {
          r += d[p]!
          g += d[p + 1]!
          b += d[p + 2]!
        }
        rowSums[ox * 3] += r
        rowSums[ox * 3 + 1] += g
        rowSums[ox * 3 + 2] += b
      }
    }
    const dst = (rect.y + oy) * tensorWidth + rect.x
    for (let ox = 0; ox < rect.width; ox++) {
      const n = (xs.end[ox]! - xs.start[ox]!) * (y1 - y0)
      // rounded to 8 bits first, as PIL's reduce does, then scaled
      out[dst + ox] = Math.round(rowSums[ox * 3]! / n) / 255
      out[plane + dst + ox] = Math.round(rowSums[ox * 3 + 1]! / n) / 255
      out[2 * plane + dst + ox] = Math.round(rowSums[ox * 3 + 2]! / n) / 255
    }
  }
}

/** The whole tensor from the whole image (stretched when the aspect ratios differ). */
export function areaResize(src: Pixels, out: Float32Array, width: number, height: number): Float32Array {
  areaResizeInto(src, out, width, height, { x: 0, y: 0, width, height })
  return out
}
