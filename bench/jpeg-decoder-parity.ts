/**
 * What TurboJPEG's fast IDCT (the model-size frame's decoder, server/inference/preprocess.ts) and,
 * for a camera frame twice the letterbox's size, TurboJPEG with Ultralytics' resize (the mean of
 * each 2 x 2 block, linear-shrink.ts) instead of libvips' shrink-on-load do to detections, against the noise a
 * station's uplink already puts in them:
 *
 *   npx tsx bench/jpeg-decoder-parity.ts
 *
 * Each golden sample is resized to the model input as a station sends it (JPEG quality 90) and run
 * through the default detector three ways against libvips' decode of that frame: TurboJPEG's decode
 * of the same bytes; libvips' decode of the frame encoded at quality 91; and of the frame resized
 * with a cubic instead of a linear kernel. Then each 640x480 sample as it is, libvips against
 * TurboJPEG with Ultralytics' resize, and libvips on the sample encoded again at quality 91. For each
 * detection of the reference it prints how far the best-matching detection's score moved (a
 * detection gone counts as its whole score).
 */
import sharp from 'sharp'
import * as ort from 'onnxruntime-node'
import type { Detection } from '../shared/domain/detection.ts'
import { iou, uplinkSize } from '../shared/inference/letterbox.ts'
import { LinearShrinker } from '../server/inference/linear-shrink.ts'
import { PixelBuffers } from '../server/inference/pixels.ts'
import { letterboxInto } from '../server/inference/preprocess.ts'
import type { FullFrameDecoder } from '../server/inference/types.ts'
import { decode } from '../test/helpers/golden.ts'
import { loadDetector } from '../test/helpers/runtimes.ts'
import { loadSamples } from '../test/helpers/samples.ts'
import { median } from './stats.ts'

const { manifest, file } = await loadDetector()
const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 })
const [, , h, w] = manifest.input.shape as [number, number, number, number]

async function detect(bytes: Uint8Array, turboJpeg: boolean, fullFrameDecoder: FullFrameDecoder = 'libvips'): Promise<Detection[]> {
  const pixels = new PixelBuffers({ width: w, height: h, pad: manifest.input.letterboxPad }, 1)
  const pre = await letterboxInto(bytes, pixels, 0, { maxPixels: 50_000_000, turboJpeg, fullFrameDecoder })
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

const shifts: Record<string, number[]> = {
  'TurboJPEG, same bytes': [],
  'libvips, quality 91': [],
  'libvips, cubic resize': [],
  'full: TurboJPEG, Ultralytics resize': [],
  'full: libvips, quality 91': [],
}
for (const s of loadSamples()) {
  const size = uplinkSize({ width: s.width, height: s.height }, { width: w, height: h })
  const frame = async (quality: number, kernel: 'linear' | 'cubic') =>
    new Uint8Array(await sharp(s.bytes).resize(size.width, size.height, { fit: 'fill', kernel }).jpeg({ quality }).toBuffer())
  const q90 = await frame(90, 'linear')
  const ref = await detect(q90, false)
  shifts['TurboJPEG, same bytes']!.push(...scoreShifts(ref, await detect(q90, true)))
  shifts['libvips, quality 91']!.push(...scoreShifts(ref, await detect(await frame(91, 'linear'), false)))
  shifts['libvips, cubic resize']!.push(...scoreShifts(ref, await detect(await frame(90, 'cubic'), false)))
  const fullRef = await detect(s.bytes, false)
  shifts['full: TurboJPEG, Ultralytics resize']!.push(...scoreShifts(fullRef, await detect(s.bytes, true, 'turbojpeg')))
  shifts['full: libvips, quality 91']!.push(...scoreShifts(fullRef, await detect(new Uint8Array(await sharp(s.bytes).jpeg({ quality: 91 }).toBuffer()), false)))
}
console.log('score change against libvips decoding the same frame (model-size: the quality-90 frame; full: the sample), per detection')
for (const [what, v] of Object.entries(shifts)) {
  const sorted = [...v].sort((a, b) => a - b)
  console.log(`${what.padEnd(36)} n ${v.length}  median ${median(v).toFixed(4)}  p90 ${sorted[Math.floor(0.9 * (sorted.length - 1))]!.toFixed(4)}  max ${sorted.at(-1)!.toFixed(4)}`)
}

// pixels: each way of shrinking a full sample against Ultralytics' own (cv2.resize INTER_LINEAR,
// which at exactly half size is the mean of each 2 x 2 block) of libvips' accurate full-size decode
// (libjpeg's default IDCT, what cv2.imread uses)
const pixelDiffs: Record<string, number[]> = { 'libvips shrink-on-load': [], 'TurboJPEG, Ultralytics resize': [] }
// the kernel linear-shrink.test.ts holds to cv2.resize INTER_LINEAR, on libvips' accurate pixels
const ultralytics = new LinearShrinker()
for (const s of loadSamples()) {
  const full = await sharp(s.bytes).raw().toBuffer({ resolveWithObject: true })
  const { width: fw, height: fh } = full.info
  ultralytics.input(fw, fh).set(full.data)
  const ultra = ultralytics.shrink(fw, fh, 2)
  for (const [what, fullFrameDecoder] of [['libvips shrink-on-load', 'libvips'], ['TurboJPEG, Ultralytics resize', 'turbojpeg']] as const) {
    const pixels = new PixelBuffers({ width: w, height: h, pad: manifest.input.letterboxPad }, 1)
    const pre = await letterboxInto(s.bytes, pixels, 0, { maxPixels: 50_000_000, fullFrameDecoder })
    if (pre.rgb.data.length !== ultra.length) throw new Error(`${s.file}: not shrunk to half size`)
    let sum = 0
    for (let i = 0; i < ultra.length; i++) sum += Math.abs(pre.rgb.data[i]! - ultra[i]!)
    pixelDiffs[what]!.push(sum / ultra.length)
  }
}
console.log("\nmean |grey level| difference from Ultralytics' resize of the accurate decode, per sample")
for (const [what, v] of Object.entries(pixelDiffs)) console.log(`${what.padEnd(36)} median ${median(v).toFixed(3)}  max ${Math.max(...v).toFixed(3)}`)
await session.release()
