/**
 * A video of parts passing the camera one after another on an empty belt, for presence-mode demos
 * and the end-to-end test (`npm run models:y4m -- out.y4m --parts N [--seed S]`). Each passage is
 * one sample image of models/samples (a clean part, or one with a defect) with a QR code printed on
 * the part that carries its id; the passage enters and leaves motion-blurred, and empty belt lies
 * between passages so the prefilter's part-present score falls. The truth is written beside the
 * video (`out.truth.json`): per part its id, its expected verdict and its frames.
 *
 * The expected verdicts are the default detector's on these very frames (checked by
 * models/tools/parts-video.test.ts): only samples whose verdict the golden detections give with a
 * margin are used, and the code sits where it changes no detection.
 */
import sharp from 'sharp'
import QRCode from 'qrcode'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Y4mFrame } from './y4m.ts'
import { mulberry32 } from '../../shared/random.ts'

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))
const SAMPLES = join(ROOT, 'models/samples')

/** Samples a part is drawn from, with the verdict the default detector gives them (golden.json). */
export const PART_SAMPLES = [
  { file: 'clean-part.jpg', verdict: 'pass' },
  { file: 'scratch.jpg', verdict: 'fail' },
  { file: 'dent.jpg', verdict: 'fail' },
  { file: 'stain.jpg', verdict: 'fail' },
  { file: 'crack.jpg', verdict: 'fail' },
] as const
const EMPTY_BELT = 'empty-belt.jpg'

export interface PartsVideoOptions {
  parts: number
  seed: number
  /** Empty-belt frames between parts. */
  gapFrames?: number
  /** Frames a part is in view, the blurred entry and exit included. */
  passFrames?: number
  /** Empty-belt frames before the first part (default: gapFrames). */
  leadFrames?: number
  /** Empty-belt frames after the last part, so a looping player shows no part for a while. */
  tailFrames?: number
}

export interface PartTruth {
  partId: string
  file: string
  verdict: 'pass' | 'fail'
  /** Video frames (0-based, inclusive) the part is in view. */
  frames: [first: number, last: number]
}

export interface PartsTruth {
  seed: number
  frames: number
  parts: PartTruth[]
}

/** The id printed on part `index` (0-based) of a video made with `seed`. */
export function partIdOf(seed: number, index: number): string {
  return `LS-${seed.toString(36).toUpperCase()}-${String(index + 1).padStart(3, '0')}`
}

/** Where the code is printed: inside the part's top-left corner, clear of every sample's defects. */
export const CODE_OFFSET = { x: 12, y: 12 }

/** The sample image with the part's QR code printed on it, as PNG. */
export async function partImage(file: string, partId: string): Promise<Buffer> {
  const samples = JSON.parse(readFileSync(join(SAMPLES, 'samples.json'), 'utf8')) as { samples: { file: string; boxes: { class: string; box: number[] }[] }[] }
  const sample = samples.samples.find((s) => s.file === file)
  const box = sample?.boxes.find((b) => b.class === 'part')?.box
  if (!box) throw new Error(`${file} has no part box in samples.json`)
  const code = await QRCode.toBuffer(partId, { errorCorrectionLevel: 'M', margin: 2, scale: 3, color: { dark: '#000000', light: '#ffffff' } })
  return sharp(join(SAMPLES, file))
    .composite([{ input: code, left: Math.round(box[0]! + CODE_OFFSET.x), top: Math.round(box[1]! + CODE_OFFSET.y) }])
    .png()
    .toBuffer()
}

/** The frames of the video (for writeY4m) and its truth. */
export async function partsVideo(o: PartsVideoOptions): Promise<{ frames: Y4mFrame[]; truth: PartsTruth }> {
  if (!(Number.isInteger(o.parts) && o.parts >= 1 && o.parts <= 100)) throw new Error('--parts must be an integer in [1, 100]')
  const gap = o.gapFrames ?? 6
  const pass = o.passFrames ?? 6
  const tail = o.tailFrames ?? gap
  const lead = o.leadFrames ?? gap
  if (![gap, lead, tail].every((n) => Number.isInteger(n) && n >= 1)) throw new Error('gaps of empty belt take at least 1 frame')
  if (pass < 3) throw new Error('a passage takes at least 3 frames (blurred entry, sharp, blurred exit)')
  const random = mulberry32(o.seed) // the same seed makes the same video
  const frames: Y4mFrame[] = []
  const parts: PartTruth[] = []
  let at = 0
  const empty = await sharp(join(SAMPLES, EMPTY_BELT)).png().toBuffer()
  for (let i = 0; i < o.parts; i++) {
    // about half the parts are defective; the first two are one of each so that any video of 2+ has both
    const defective = i < 2 ? i === 1 : random() < 0.5
    const pool = PART_SAMPLES.filter((s) => (s.verdict === 'fail') === defective)
    const sample = pool[Math.floor(random() * pool.length)]!
    const partId = partIdOf(o.seed, i)
    const before = i === 0 ? lead : gap
    frames.push({ file: empty, frames: before })
    at += before
    const sharpImage = await partImage(sample.file, partId)
    const blurred = await sharp(sharpImage).blur(4).png().toBuffer()
    frames.push({ file: blurred, frames: 1 }, { file: sharpImage, frames: pass - 2 }, { file: blurred, frames: 1 })
    parts.push({ partId, file: sample.file, verdict: sample.verdict, frames: [at, at + pass - 1] })
    at += pass
  }
  frames.push({ file: empty, frames: tail })
  at += tail
  return { frames, truth: { seed: o.seed, frames: at, parts } }
}
