/**
 * The frames the benchmark sends. Camera-like JPEGs: the committed sample frames at 640x480, and
 * 1 MP / 2 MP / 5 MP frames tiled from them at native scale (real JPEG detail, where an upscale
 * would be a blur that compresses and decodes unrealistically fast). The 100 KB frames of the
 * transport and gateway-ceiling stages are opaque bytes: nothing decodes them there.
 */
import { randomFillSync } from 'node:crypto'
import sharp from 'sharp'
import { MODEL_SIZE_JPEG_QUALITY } from '../client/config.ts'
import { sampleFrames } from '../test/fixtures/inference.ts'
import { uplinkSize } from '../shared/inference/letterbox.ts'

export const SIZES = {
  vga: [640, 480],
  '1mp': [1280, 800],
  '2mp': [1920, 1080],
  '5mp': [2592, 1944],
} as const satisfies Record<string, readonly [number, number]>
export type SizeName = keyof typeof SIZES

export function isSizeName(s: string): s is SizeName {
  return Object.hasOwn(SIZES, s)
}

export interface FrameSet {
  size: SizeName
  width: number
  height: number
  /** A few different frames, sent in turn so no cache sees the same bytes twice in a row. */
  jpegs: Uint8Array[]
  meanKB: number
}

async function tiledJpeg(width: number, height: number, tiles: readonly Uint8Array[]): Promise<Uint8Array> {
  const meta = await sharp(tiles[0]!).metadata()
  const tw = meta.width!
  const th = meta.height!
  const composite: { input: Buffer; left: number; top: number }[] = []
  let i = 0
  for (let y = 0; y < height; y += th) for (let x = 0; x < width; x += tw) composite.push({ input: Buffer.from(tiles[i++ % tiles.length]!), left: x, top: y })
  const canvas = await sharp({ create: { width: Math.ceil(width / tw) * tw, height: Math.ceil(height / th) * th, channels: 3, background: '#777' } })
    .composite(composite)
    .raw()
    .toBuffer({ resolveWithObject: true })
  return new Uint8Array(await sharp(canvas.data, { raw: canvas.info }).extract({ left: 0, top: 0, width, height }).jpeg({ quality: 90 }).toBuffer())
}

export async function frameSet(size: SizeName): Promise<FrameSet> {
  const samples = (await sampleFrames()).map((s) => s.bytes)
  const [width, height] = SIZES[size]
  const jpegs =
    size === 'vga'
      ? samples
      : await Promise.all([0, 1, 2, 3].map((k) => tiledJpeg(width, height, samples.slice(k).concat(samples.slice(0, k)))))
  const meanKB = jpegs.reduce((n, j) => n + j.length, 0) / jpegs.length / 1024
  return { size, width, height, jpegs, meanKB }
}

/**
 * What a station sends with the model-size uplink: each frame resized (aspect kept) to the model
 * input, as the station's GPU does, at the station's quality for such frames (client/config.ts).
 */
export async function modelSizeSet(full: FrameSet, input: { width: number; height: number }): Promise<ModelSizeSet> {
  const { width, height } = uplinkSize(full, input)
  const jpegs = await Promise.all(
    full.jpegs.map(async (j) => new Uint8Array(await sharp(j).resize(width, height, { fit: 'fill', kernel: 'linear' }).jpeg({ quality: Math.round(MODEL_SIZE_JPEG_QUALITY * 100) }).toBuffer())),
  )
  return { width, height, from: { width: full.width, height: full.height }, jpegs, meanBytes: mean(jpegs), fullMeanBytes: mean(full.jpegs) }
}

export interface ModelSizeSet {
  width: number
  height: number
  /** The camera frames they were made from. */
  from: { width: number; height: number }
  jpegs: Uint8Array[]
  meanBytes: number
  fullMeanBytes: number
}

const mean = (jpegs: Uint8Array[]) => jpegs.reduce((n, j) => n + j.length, 0) / jpegs.length

/** Opaque payloads of exactly `bytes` bytes (random, so no layer can compress them away). */
export function opaqueFrames(bytes: number, count = 8): Uint8Array[] {
  return Array.from({ length: count }, () => randomFillSync(new Uint8Array(bytes)))
}
