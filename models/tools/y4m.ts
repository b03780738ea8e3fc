/**
 * Turns sample images into a short YUV4MPEG2 video, the format Chromium's fake camera plays
 * (`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m`), for the
 * end-to-end tests and for a demo without a camera. y4m is uncompressed (640x480 at 5 fps is 2.3 MB
 * a second), so it is made when needed, never committed:
 *
 *   npm run models:y4m -- out.y4m [--fps 5] [--seconds 2] [--width 640 --height 480] [image ...]
 *   npm run models:y4m -- out.y4m --parts 6 [--seed 1] [--fps 5]
 *
 * Without images it plays every sample in models/samples (samples.json) for `--seconds` each.
 * `--parts N` makes a video of N parts passing the camera on an empty belt, each with a QR code
 * carrying its id, and writes the truth beside it as out.truth.json (models/tools/parts-video.ts).
 */
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { partsVideo } from './parts-video.ts'

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))

export interface Y4mFrame {
  /** An image file under models/samples (or an absolute path), or the encoded image itself. */
  file: string | Buffer
  /** Video frames this image stays in view. */
  frames: number
}

/**
 * A YUV4MPEG2 (4:2:0, full-range BT.601) video of images, the format Chromium's
 * --use-file-for-fake-video-capture plays in a loop. All images take the first one's size.
 */
export async function writeY4m(images: Y4mFrame[], path: string, fps: number, size?: { width: number; height: number }): Promise<{ width: number; height: number; frames: number }> {
  const meta = await sharp(imageInput(images[0]!.file)).metadata()
  const width = size?.width ?? meta.width!
  const height = size?.height ?? meta.height!
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`)]
  let frames = 0
  for (const img of images) {
    const frame = Buffer.concat([Buffer.from('FRAME\n'), await toI420(imageInput(img.file), width, height)])
    for (let k = 0; k < img.frames; k++) parts.push(frame)
    frames += img.frames
  }
  await writeFile(path, Buffer.concat(parts))
  return { width, height, frames }
}

function imageInput(file: string | Buffer): string | Buffer {
  return typeof file !== 'string' || file.startsWith('/') ? file : join(ROOT, 'models/samples', file)
}

async function toI420(file: string | Buffer, width: number, height: number): Promise<Buffer> {
  const rgb = await sharp(file).resize(width, height, { fit: 'contain' }).removeAlpha().raw().toBuffer()
  const y = Buffer.alloc(width * height)
  const u = Buffer.alloc((width / 2) * (height / 2))
  const v = Buffer.alloc((width / 2) * (height / 2))
  for (let i = 0; i < width * height; i++) y[i] = Math.round(0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!)
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)))
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      let r = 0
      let g = 0
      let b = 0
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((cy * 2 + dy) * width + cx * 2 + dx) * 3
        r += rgb[p]! / 4
        g += rgb[p + 1]! / 4
        b += rgb[p + 2]! / 4
      }
      u[cy * (width / 2) + cx] = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)
      v[cy * (width / 2) + cx] = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128)
    }
  }
  return Buffer.concat([y, u, v])
}

/** The truth file beside a parts video: out.y4m -> out.truth.json. */
export function truthPathOf(video: string): string {
  return video.replace(/(\.y4m)?$/, '.truth.json')
}

/** Writes a parts video and its truth (models/tools/parts-video.ts). */
export async function writePartsVideo(path: string, options: Parameters<typeof partsVideo>[0], fps: number) {
  const { frames, truth } = await partsVideo(options)
  const video = await writeY4m(frames, path, fps)
  await writeFile(truthPathOf(path), `${JSON.stringify({ ...truth, fps, width: video.width, height: video.height }, null, 1)}\n`)
  return { truth: { ...truth, fps, width: video.width, height: video.height }, video }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { fps: { type: 'string', default: '5' }, seconds: { type: 'string', default: '2' }, width: { type: 'string' }, height: { type: 'string' }, parts: { type: 'string' }, seed: { type: 'string', default: '1' } },
  })
  const [out, ...images] = positionals
  if (!out) {
    console.error('usage: npm run models:y4m -- out.y4m [--fps 5] [--seconds 2] [--width W --height H] [image ...]\n       npm run models:y4m -- out.y4m --parts N [--seed S] [--fps 5]')
    process.exitCode = 2
    return
  }
  if (values.parts !== undefined) {
    const fps = Number(values.fps)
    if (!(fps > 0 && fps <= 60)) throw new Error('--fps must be in (0, 60]')
    const seed = Number(values.seed)
    if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer')
    const { truth, video } = await writePartsVideo(out, { parts: Number(values.parts), seed }, fps)
    console.log(`${out}: ${video.width}x${video.height}, ${video.frames} frames at ${fps} fps, ${truth.parts.length} parts (${truth.parts.filter((p) => p.verdict === 'fail').length} defective); truth in ${truthPathOf(out)}`)
    return
  }
  const fps = Number(values.fps)
  const seconds = Number(values.seconds)
  if (!(fps > 0 && fps <= 60) || !(seconds > 0 && seconds <= 60)) throw new Error('--fps must be in (0, 60] and --seconds in (0, 60]')
  const files = images.length ? images.map((f) => resolve(f)) : (JSON.parse(readFileSync(join(ROOT, 'models/samples/samples.json'), 'utf8')) as { samples: { file: string }[] }).samples.map((s) => s.file)
  const size = values.width && values.height ? { width: Number(values.width), height: Number(values.height) } : undefined
  if (size && (size.width % 2 || size.height % 2 || size.width < 2 || size.height < 2)) throw new Error('--width and --height must be even (4:2:0 chroma)')
  const r = await writeY4m(files.map((file) => ({ file, frames: Math.max(1, Math.round(fps * seconds)) })), out, fps, size)
  console.log(`${out}: ${r.width}x${r.height}, ${r.frames} frames at ${fps} fps, ${files.length} images`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
