/**
 * A model's input tensor and the decoded pixels it is made from, in one WebAssembly memory, and
 * the SIMD kernel (planar.wat) that turns interleaved RGB bytes into the tensor's planar floats.
 *
 * That conversion was a JavaScript loop costing 0.2 to 0.6 CPU ms per 320x240 frame, an eighth
 * of an inference thread's time under load, more than the JPEG decode (bench/FINDINGS.md, "The
 * tensor's floats in WebAssembly"); the kernel does it in about a quarter of that. The kernel can
 * only reach its own memory, so the tensor (which onnxruntime reads in place) and each batch
 * slot's pixel buffer (where TurboJPEG decodes) live there; pixels decoded elsewhere (libvips)
 * are copied in first. The memory has a fixed size and never grows, so its views stay valid.
 */
import { readFileSync } from 'node:fs'
import type { Letterbox } from '../../shared/inference/letterbox.ts'

/** Compiled once per thread, instantiated per PixelBuffers (each with its own memory). */
let compiled: WebAssembly.Module | undefined
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(new URL('./planar.wasm', import.meta.url)))
  return compiled
}

const PAGE = 65536

/** planar.wat's export: byte addresses and byte strides in the memory (see the .wat). */
type PlanarKernel = (src: number, w: number, h: number, dst: number, stride: number, plane: number) => void

export interface PixelTarget {
  width: number
  height: number
  /** Padding grey level, 0..255 (Ultralytics: 114). */
  pad: number
}

export class PixelBuffers {
  /** slots x 3 x height x width floats, 0..1: the model's input, read by onnxruntime in place. */
  readonly tensor: Float32Array
  readonly #rgb: Buffer
  readonly #planar: PlanarKernel
  /** Values per slot, 3 x height x width: floats in the tensor, bytes in the pixel buffer. */
  readonly #slotSize: number
  readonly #padValue: number

  constructor(
    readonly target: PixelTarget,
    readonly slots: number,
  ) {
    const { width, height, pad } = target
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && Number.isInteger(slots) && slots > 0)) {
      throw new RangeError(`pixel buffers need whole positive sizes, got ${width}x${height} x ${slots}`)
    }
    if (!(Number.isInteger(pad) && pad >= 0 && pad <= 255)) throw new RangeError(`padding grey level ${pad} is not 0..255`)
    this.#slotSize = 3 * width * height
    const tensorBytes = slots * this.#slotSize * 4
    const total = tensorBytes + slots * this.#slotSize
    if (total > 2 ** 32 - PAGE) throw new RangeError(`${width}x${height} x ${slots} slots needs ${total} bytes, more than a WebAssembly memory holds`)
    const pages = Math.ceil(total / PAGE)
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages })
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory } })
    this.#planar = instance.exports.planar as PlanarKernel
    this.tensor = new Float32Array(memory.buffer, 0, slots * this.#slotSize)
    this.#rgb = Buffer.from(memory.buffer, tensorBytes, slots * this.#slotSize)
    this.#padValue = pad / 255
  }

  /** Slot `i` of the tensor (3 x height x width floats). */
  tensorSlot(i: number): Float32Array {
    this.#check(i)
    return this.tensor.subarray(i * this.#slotSize, (i + 1) * this.#slotSize)
  }

  /** Slot `i`'s pixel buffer (height x width x 3 bytes), where a decoder may write a frame at the letterbox's scale. */
  rgbSlot(i: number): Buffer {
    this.#check(i)
    return this.#rgb.subarray(i * this.#slotSize, (i + 1) * this.#slotSize)
  }

  /**
   * Writes `rgb` (interleaved, `lb.resizedWidth` x `lb.resizedHeight`) into tensor slot `i` at the
   * letterbox's offset and the padding grey everywhere else. `rgb` is used where it lies when it is
   * the start of slot `i`'s pixel buffer, else copied there first. Returns the pixels' view in the
   * slot (valid until the slot is written again).
   */
  letterbox(i: number, rgb: Uint8Array, lb: Letterbox): Uint8Array {
    const { width: W, height: H } = this.target
    const w = lb.resizedWidth
    const h = lb.resizedHeight
    if (lb.padX < 0 || lb.padY < 0 || lb.padX + w > W || lb.padY + h > H) throw new RangeError(`a ${w}x${h} image at (${lb.padX}, ${lb.padY}) does not fit ${W}x${H}`)
    if (rgb.length !== w * h * 3) throw new RangeError(`${rgb.length} bytes of RGB for a ${w}x${h} image`)
    const slot = this.rgbSlot(i)
    const src = slot.subarray(0, rgb.length)
    if (!(rgb.buffer === src.buffer && rgb.byteOffset === src.byteOffset)) src.set(rgb)

    const out = this.tensorSlot(i)
    const plane = W * H
    const top = lb.padY * W
    const bottom = (lb.padY + h) * W
    const right = lb.padX + w
    // only the padding is filled: the kernel writes the rest
    for (let o = 0; o < 3 * plane; o += plane) {
      out.fill(this.#padValue, o, o + top)
      out.fill(this.#padValue, o + bottom, o + plane)
      if (w < W) {
        for (let row = o + top; row < o + bottom; row += W) {
          out.fill(this.#padValue, row, row + lb.padX)
          out.fill(this.#padValue, row + right, row + W)
        }
      }
    }
    this.#planar(src.byteOffset, w, h, out.byteOffset + (top + lb.padX) * 4, W * 4, plane * 4)
    return src
  }

  #check(i: number): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.slots)) throw new RangeError(`slot ${i} of ${this.slots}`)
  }
}
