/**
 * Encoded image -> one letterboxed NCHW float32 slot of a model's input tensor, inside a worker.
 *
 * The pixels take one trip: libvips decodes (at 1/2, 1/4 or 1/8 scale straight out of the JPEG
 * decoder when the frame is much bigger than the model input, "shrink-on-load") and resizes into
 * a small RGB buffer; a SIMD kernel turns that into planar 0..1 floats in the model's tensor
 * (pixels.ts), which is reused from frame to frame. A JPEG that is already at the letterbox's
 * size (what a station's model-size uplink sends) skips libvips: libjpeg-turbo's TurboJPEG API
 * decodes it in the calling thread, about a seventh of the CPU of the same decode through sharp
 * (bench/FINDINGS.md, "A model-size frame without libvips"). With FULL_FRAME_DECODER=turbojpeg,
 * so does one that is an exact multiple of it up to 2 MP (a 640x480 camera frame for a 320 px
 * model): decoded whole, then shrunk as Ultralytics' letterbox shrinks it (linear-shrink.ts). The
 * letterbox geometry comes from shared/inference/letterbox.ts, the same function the browser and
 * the decoder use.
 */
import jpegTurbo from '@julusian/jpeg-turbo'
import sharp, { type Metadata, type OutputInfo } from 'sharp'
import { computeLetterbox, type Letterbox } from '../../shared/inference/letterbox.ts'
import { LinearShrinker, MAX_SHRINK_PIXELS, shrinkFactor } from './linear-shrink.ts'
import { sniffImageSize, type HeaderSize } from './image-header.ts'
import type { PixelBuffers } from './pixels.ts'
import { InferenceError, type FullFrameDecoder } from './types.ts'

export interface Preprocessed {
  /** Image size after EXIF orientation, the frame boxes are reported in. */
  width: number
  height: number
  letterbox: Letterbox
  /**
   * The decoded frame at the letterbox's scale, interleaved RGB: a thumbnail costs only its encode.
   * A view of the slot's pixel buffer, valid until the slot is written again.
   */
  rgb: { data: Uint8Array; width: number; height: number }
  /** A JPEG whose pixels are stored upright (no EXIF rotation): within the thumbnail's size, it is its own thumbnail. */
  uprightJpeg: boolean
}

export interface PreprocessOptions {
  maxPixels: number
  /** libvips shrink-on-load; off only to measure what it saves. @default true */
  fastShrinkOnLoad?: boolean
  /** TurboJPEG for a plain JPEG already at the letterbox's size; off only to compare with libvips. @default true */
  turboJpeg?: boolean
  /**
   * FULL_FRAME_DECODER. `turbojpeg`: a plain JPEG a whole k >= 2 times the letterbox's size (at most
   * 2 MP) decoded whole by TurboJPEG, then shrunk as cv2.resize INTER_LINEAR does (linear-shrink.ts),
   * instead of by libvips' shrink-on-load and resize. @default 'libvips'
   */
  fullFrameDecoder?: FullFrameDecoder | undefined
}

/** Formats a camera or a browser sends. Everything else (SVG, TIFF, PDF...) widens the attack surface for nothing. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp'])

/**
 * Process-wide libvips limits. sharp's native state is shared by every worker thread of the
 * process, so each worker sets the same values.
 */
export function configureSharp(threads: number): void {
  // The operation cache only helps when the same file is read twice; frames never are, and it would hold decoded pixels.
  sharp.cache(false)
  sharp.concurrency(Math.max(1, threads))
}

/** Reads the header only: size, format and orientation, no pixels; libvips only where JavaScript cannot. */
export async function readHeader(image: Uint8Array, maxPixels: number): Promise<{ width: number; height: number; format: string; orientation?: number; profile?: HeaderSize['profile'] }> {
  const sniffed = sniffImageSize(image)
  if (sniffed) {
    checkPixels(sniffed.width, sniffed.height, maxPixels)
    return sniffed
  }
  let meta: Metadata
  try {
    meta = await sharp(image, { limitInputPixels: false }).metadata()
  } catch (e) {
    throw new InferenceError('undecodable', `not a readable image: ${(e as Error).message}`, true)
  }
  const format = meta.format ?? 'unknown'
  if (!ACCEPTED_FORMATS.has(format)) throw new InferenceError('undecodable', `unsupported image format "${format}" (JPEG, PNG or WebP)`, true)
  const { width, height } = meta.autoOrient ?? meta
  if (!(width && height && width > 0 && height > 0)) throw new InferenceError('undecodable', 'image header has no size', true)
  checkPixels(width, height, maxPixels)
  return { width, height, format }
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new InferenceError('too_many_pixels', `image is ${width}x${height} = ${width * height} pixels, more than MAX_PIXELS=${maxPixels}`, true)
  }
}

/**
 * Decodes `image` and writes it letterboxed into slot `slot` of `pixels`' tensor (3 x height x
 * width floats, planar RGB, 0..1: i / 255, exactly Ultralytics' `im / 255`). The size limit is
 * checked from the header before any pixel is decoded, and libvips enforces it again while
 * decoding, so a file whose header lies cannot grow past it.
 */
export async function letterboxInto(image: Uint8Array, pixels: PixelBuffers, slot: number, opts: PreprocessOptions): Promise<Preprocessed> {
  const target = pixels.target
  const { width, height, format, orientation, profile } = await readHeader(image, opts.maxPixels)
  const lb = computeLetterbox(width, height, target.width, target.height)
  const atLetterboxSize = lb.resizedWidth === width && lb.resizedHeight === height
  const upright = format === 'jpeg' && orientation === 1
  const plain = upright && profile !== 'other' && opts.turboJpeg !== false
  // TurboJPEG decodes straight into the slot's pixel buffer; a shrunk frame's and libvips' pixels are copied there
  const decoded =
    (plain && atLetterboxSize && decodePlainJpeg(image, width, height, pixels.rgbSlot(slot))) ||
    (plain && opts.fullFrameDecoder === 'turbojpeg' && decodeAndShrink(image, width, height, lb)) ||
    (await decodeWithSharp(image, lb, width, height, opts))
  const data = pixels.letterbox(slot, decoded, lb)
  return { width, height, letterbox: lb, rgb: { data, width: lb.resizedWidth, height: lb.resizedHeight }, uprightJpeg: upright }
}

/**
 * A JPEG stored upright, in sRGB (no colour profile or an sRGB one), at exactly the size wanted: TurboJPEG straight
 * to RGB, synchronously (about 0.3 ms for 320x240 here). Undefined when TurboJPEG cannot (CMYK,
 * 12-bit, arithmetic coding, a broken file) or gives another size; libvips then decodes the frame,
 * or says why it cannot. TurboJPEG's fast integer IDCT (the binding's fixed choice) differs from
 * libvips' accurate one by about one grey level on average; bench/FINDINGS.md has what that does
 * to detections.
 */
function decodePlainJpeg(image: Uint8Array, width: number, height: number, into: Buffer): Uint8Array | undefined {
  // an output buffer of the expected size: TurboJPEG refuses a frame whose own header asks for more
  const size = width * height * 3
  if (into.length < size) return undefined
  const rgb = into.subarray(0, size)
  try {
    const out = jpegTurbo.decompressSync(Buffer.from(image.buffer, image.byteOffset, image.byteLength), rgb, { format: jpegTurbo.FORMAT_RGB })
    return out.width === width && out.height === height && out.size === rgb.length ? rgb : undefined
  } catch {
    return undefined
  }
}

/**
 * One per thread, shared by a batch's frames: letterboxInto copies a shrunk frame into its slot
 * with no await between the decode and the copy, so another frame's decode cannot overwrite it.
 */
let shrinker: LinearShrinker | undefined

/**
 * A plain JPEG a whole k >= 2 times the letterbox's size, at most MAX_SHRINK_PIXELS: TurboJPEG
 * decodes it whole and it is shrunk as Ultralytics' letterbox shrinks it (linear-shrink.ts).
 * Undefined for any other frame, or when TurboJPEG cannot decode it. 640x480 into 320x240: about a
 * quarter of the CPU of libvips' shrink-on-load (bench/FINDINGS.md, "Full frames without libvips").
 */
function decodeAndShrink(image: Uint8Array, width: number, height: number, lb: Letterbox): Uint8Array | undefined {
  const k = shrinkFactor(width, height, { width: lb.resizedWidth, height: lb.resizedHeight })
  if (k === undefined || width * height > MAX_SHRINK_PIXELS) return undefined
  shrinker ??= new LinearShrinker()
  return decodePlainJpeg(image, width, height, shrinker.input(width, height)) && shrinker.shrink(width, height, k)
}

async function decodeWithSharp(image: Uint8Array, lb: Letterbox, width: number, height: number, opts: PreprocessOptions): Promise<Uint8Array> {
  let raw: { data: Buffer; info: OutputInfo }
  try {
    const decoder = sharp(image, { limitInputPixels: opts.maxPixels, sequentialRead: true }).autoOrient()
    // a model-size frame from a station is already at the letterbox's size: decode only
    if (lb.resizedWidth !== width || lb.resizedHeight !== height) {
      decoder.resize(lb.resizedWidth, lb.resizedHeight, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: opts.fastShrinkOnLoad ?? true })
    }
    raw = await decoder
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
  } catch (e) {
    throw new InferenceError('undecodable', `image could not be decoded: ${(e as Error).message}`, true)
  }
  const { data, info } = raw
  if (info.width !== lb.resizedWidth || info.height !== lb.resizedHeight || info.channels !== 3) {
    throw new InferenceError('undecodable', `decoder returned ${info.width}x${info.height}x${info.channels}, expected ${lb.resizedWidth}x${lb.resizedHeight}x3`, true)
  }
  return data
}

/**
 * A JPEG thumbnail (at most `maxPx` on a side) from decoded RGB pixels. The worker makes one for a
 * failing frame from the pixels it already decoded, so the store need not decode the frame again
 * (about 0.5 ms here against 5 to 7 ms for a 640x480 JPEG; bench/report.md, "record").
 */
export async function encodeThumbnail(rgb: Preprocessed['rgb'], maxPx: number, quality = 75): Promise<Uint8Array> {
  // pixels already within the thumbnail's size (the letterbox scale of a model with a 320 px input):
  // TurboJPEG here, 0.2 CPU ms against 1.4 for the same encode through sharp (bench/FINDINGS.md)
  if (rgb.width <= maxPx && rgb.height <= maxPx) {
    const data = Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength)
    const jpeg = jpegTurbo.compressSync(data, { format: jpegTurbo.FORMAT_RGB, width: rgb.width, height: rgb.height, quality, subsampling: jpegTurbo.SAMP_420 })
    // a copy of its own size: the binding's result is a view of a worst-case buffer (about 25 times
    // larger), which every postMessage on its way to the image store would clone whole
    return new Uint8Array(jpeg)
  }
  const out = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(maxPx, maxPx, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality, mozjpeg: false })
    .toBuffer()
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
