/**
 * What TurboJPEG's fast IDCT (the model-size frame's decoder, server/inference/preprocess.ts) does
 * to detections, against the noise a station's uplink already puts in them:
 *
 *   npx tsx bench/jpeg-decoder-parity.ts
 *
 * Each golden sample is resized to the model input as a station sends it (JPEG quality 90) and run
 * through the default detector three ways against libvips' decode of that frame: TurboJPEG's decode
 * of the same bytes; libvips' decode of the frame encoded at quality 91; and of the frame resized
 * with a cubic instead of a linear kernel. For each detection of the reference it prints how far the
 * best-matching detection's score moved (a detection gone counts as its whole score).
 */
import sharp from 'sharp'
import * as ort from 'onnxruntime-node'
import type { Detection } from '../shared/domain/detection.ts'
import { iou, uplinkSize } from '../shared/inference/letterbox.ts'
import { PixelBuffers } from '../server/inference/pixels.ts'
import { letterboxInto } from '../server/inference/preprocess.ts'
import { decode } from '../test/helpers/golden.ts'
import { loadDetector } from '../test/helpers/runtimes.ts'
import { loadSamples } from '../test/helpers/samples.ts'
import { median } from './stats.ts'

const { manifest, file } = await loadDetector()
const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 })
const [, , h, w] = manifest.input.shape as [number, number, number, number]

async function detect(bytes: Uint8Array, turboJpeg: boolean): Promise<Detection[]> {
  const pixels = new PixelBuffers({ width: w, height: h, pad: manifest.input.letterboxPad }, 1)
  const pre = await letterboxInto(bytes, pixels, 0, { maxPixels: 50_000_000, turboJpeg })
  const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', pixels.tensor, [1, 3, h, w]) })
  const t = out[manifest.output.name]!
  return decode({ data: t.data as Float32Array, dims: [...t.dims] }, manifest, pre.letterbox)
}

/** Per detection of `ref`: |score change| of its best-overlapping twin of the same class in `got`. */
function scoreShifts(ref: Detection[], got: Detection[]): number[] {
  return ref.map((d) => {
    const twin = got.filter((g) => g.class === d.class).sort((a, b) => iou(b.box, d.box) - iou(a.box, d.box))[0]
    return twin && iou(twin.box, d.box) >= 0.5 ? Math.abs(twin.score - d.score) : d.score
  })
}

const shifts: Record<string, number[]> = { 'TurboJPEG, same bytes': [], 'libvips, quality 91': [], 'libvips, cubic resize': [] }
for (const s of loadSamples()) {
  const size = uplinkSize({ width: s.width, height: s.height }, { width: w, height: h })
  const frame = async (quality: number, kernel: 'linear' | 'cubic') =>
    new Uint8Array(await sharp(s.bytes).resize(size.width, size.height, { fit: 'fill', kernel }).jpeg({ quality }).toBuffer())
  const q90 = await frame(90, 'linear')
  const ref = await detect(q90, false)
  shifts['TurboJPEG, same bytes']!.push(...scoreShifts(ref, await detect(q90, true)))
  shifts['libvips, quality 91']!.push(...scoreShifts(ref, await detect(await frame(91, 'linear'), false)))
  shifts['libvips, cubic resize']!.push(...scoreShifts(ref, await detect(await frame(90, 'cubic'), false)))
}
console.log('score change against libvips decoding the quality-90 frame, per detection')
for (const [what, v] of Object.entries(shifts)) {
  const sorted = [...v].sort((a, b) => a - b)
  console.log(`${what.padEnd(24)} n ${v.length}  median ${median(v).toFixed(4)}  p90 ${sorted[Math.floor(0.9 * (sorted.length - 1))]!.toFixed(4)}  max ${sorted.at(-1)!.toFixed(4)}`)
}
await session.release()
