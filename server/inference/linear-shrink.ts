/**
 * A camera frame that is a whole multiple k of the letterbox's size (640x480 into a 320 px model,
 * 1920x1080 into 320 or 640), shrunk without libvips and exactly as Ultralytics' letterbox does it
 * (`cv2.resize` with `INTER_LINEAR`): output pixel x samples source x k + (k - 1) / 2, so it is the
 * source pixel there for an odd k and the mean of the 2 x 2 pixels around it for an even one (for
 * k = 2, the mean of each 2 x 2 block). TurboJPEG decodes the frame whole into this WebAssembly
 * memory and planar.wat's `shrink` computes those means (SIMD over the rows). libvips'
 * shrink-on-load does the job through its call machinery at about four times the CPU for a 640x480
 * frame, and by another resampling (bench/FINDINGS.md, "Full frames without libvips").
 *
 * One per worker thread. Its memory grows to the largest frame it was given (at most
 * MAX_SHRINK_PIXELS: about 8 MB for 1920x1080, the frame, its row sums and the shrunk frame) and is
 * kept: a WebAssembly memory cannot shrink, and a line's cameras send one size.
 */
import { readFileSync } from 'node:fs'

/** Larger frames go to libvips: decoding a frame whole costs more than its shrink-on-load saves. */
export const MAX_SHRINK_PIXELS = 1920 * 1080

const PAGE = 65536
/** The kernel reads up to 15 bytes past a row and writes up to 30 past its sums. */
const SLACK = 32

type ShrinkKernel = (src: number, w: number, k: number, c: number, o: number, ow: number, oh: number, acc: number, dst: number) => void

let compiled: WebAssembly.Module | undefined

/** The factor k when a w x h frame is exactly k >= 2 times `out`, else undefined. */
export function shrinkFactor(w: number, h: number, out: { width: number; height: number }): number | undefined {
  const k = w / out.width
  return Number.isInteger(k) && k >= 2 && h === k * out.height ? k : undefined
}

export class LinearShrinker {
  readonly #memory: WebAssembly.Memory
  readonly #shrink: ShrinkKernel

  constructor() {
    compiled ??= new WebAssembly.Module(readFileSync(new URL('./planar.wasm', import.meta.url)))
    // the most room input() asks for: the most pixels in one row (the longest row sums)
    this.#memory = new WebAssembly.Memory({ initial: 1, maximum: Math.ceil(layout(MAX_SHRINK_PIXELS, 1, 2).total / PAGE) })
    const instance = new WebAssembly.Instance(compiled, { env: { memory: this.#memory } })
    this.#shrink = instance.exports.shrink as ShrinkKernel
  }

  /** Where a w x h RGB frame is to be decoded (w x h x 3 bytes), valid until the next call. */
  input(w: number, h: number): Buffer {
    check(w, h)
    // room for the largest shrunk frame, k = 2
    const pages = Math.ceil(layout(w, h, 2).total / PAGE) - this.#memory.buffer.byteLength / PAGE
    if (pages > 0) this.#memory.grow(pages)
    return Buffer.from(this.#memory.buffer, 0, w * h * 3)
  }

  /** The frame written into `input(w, h)`, shrunk k times: (w / k) x (h / k) x 3 bytes, valid until the next call. */
  shrink(w: number, h: number, k: number): Uint8Array {
    check(w, h)
    if (!(Number.isInteger(k) && k >= 2 && w % k === 0 && h % k === 0)) throw new RangeError(`a ${w}x${h} frame does not shrink ${k} times`)
    const l = layout(w, h, k)
    if (l.total > this.#memory.buffer.byteLength) throw new RangeError(`shrink(${w}, ${h}) without input(${w}, ${h}) first`)
    // the source pixels output pixel 0 samples: one for an odd k, two for an even one
    const c = k % 2 === 0 ? 2 : 1
    this.#shrink(0, w, k, c, (k - c) / 2, w / k, h / k, l.acc, l.dst)
    return new Uint8Array(this.#memory.buffer, l.dst, (w / k) * (h / k) * 3)
  }
}

function check(w: number, h: number): void {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w * h <= MAX_SHRINK_PIXELS)) throw new RangeError(`a ${w}x${h} frame is not 1 to ${MAX_SHRINK_PIXELS} pixels`)
}

/** Byte offsets: the frame at 0, the row sums after it, the shrunk frame after them. */
function layout(w: number, h: number, k: number): { acc: number; dst: number; total: number } {
  const acc = w * h * 3 + SLACK
  const dst = acc + Math.ceil((w * 3) / 16) * 32 + SLACK
  return { acc, dst, total: dst + Math.ceil(w / k) * Math.ceil(h / k) * 3 }
}
