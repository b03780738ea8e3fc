/**
 * JPEG/PNG file -> the detector's input tensor: letterboxed to the model size with pad 114,
 * RGB, 0..1, NCHW. Geometry comes from shared/inference/letterbox.ts (Ultralytics' rounding).
 *
 * Pixel resampling lives here only until a shared image-preprocessing module exists; the
 * server and browser resize with their own image stacks and must match the geometry, not bytes.
 */
import sharp from 'sharp'
import { computeLetterbox, type Letterbox } from '../../../shared/inference/letterbox.ts'

export const LETTERBOX_PAD = 114

export interface Prepared {
  data: Float32Array
  letterbox: Letterbox
}

export async function letterboxFile(file: string, width: number, height: number): Promise<Prepared> {
  const meta = await sharp(file).metadata()
  if (!meta.width || !meta.height) throw new Error(`${file}: no image size`)
  const lb = computeLetterbox(meta.width, meta.height, width, height)
  const { data } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(lb.resizedWidth, lb.resizedHeight, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data: toNchw(data, lb, width, height), letterbox: lb }
}

/** Packed RGB of the resized image -> padded planar float tensor. */
export function toNchw(rgb: Uint8Array, lb: Letterbox, width: number, height: number): Float32Array {
  const plane = width * height
  const out = new Float32Array(3 * plane).fill(LETTERBOX_PAD / 255)
  for (let y = 0; y < lb.resizedHeight; y++) {
    const row = (y + lb.padY) * width + lb.padX
    for (let x = 0; x < lb.resizedWidth; x++) {
      const s = (y * lb.resizedWidth + x) * 3
      const d = row + x
      out[d] = rgb[s]! / 255
      out[plane + d] = rgb[s + 1]! / 255
      out[2 * plane + d] = rgb[s + 2]! / 255
    }
  }
  return out
}
