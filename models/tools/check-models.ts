/**
 * Checks the committed default models against their contracts in onnxruntime-node:
 *  - detector: input `images` [batch,3,320,320], output `output0` [batch, 4+nc, 2100], dynamic batch
 *    (runs batch 1 and 2 and compares), scores in 0..1, manifest sha256 matches the file, and the
 *    sample frames' detections match their ground truth (models/samples/samples.json);
 *  - prefilter: the six named outputs, equal to the numpy reference on the golden frames.
 *
 *   npx tsx models/tools/check-models.ts
 *
 * Exits non-zero on the first broken contract.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { parseManifest, classThresholds, inputSize, type DetectManifest, type PrefilterManifest } from '../../shared/domain/manifest.ts'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { iou, type Box } from '../../shared/inference/letterbox.ts'
import { letterboxFile } from './lib/preprocess.ts'

const failures: string[] = []
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

function load<T>(dir: string): T {
  const file = join(dir, 'manifest.json')
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')), file) as T
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

async function checkDetector(dir: string) {
  const m = load<DetectManifest>(dir)
  const file = join(dir, m.file)
  check(sha256(file) === m.sha256, `detector sha256 matches manifest`)
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 })
  const input = session.inputMetadata[0]
  const output = session.outputMetadata[0]
  check(session.inputNames.join() === 'images' && session.outputNames.join() === 'output0', 'detector I/O names images -> output0')
  if (input?.isTensor && output?.isTensor) {
    check(JSON.stringify(input.shape) === '["batch",3,320,320]', `input shape ${JSON.stringify(input.shape)}`)
    check(JSON.stringify(output.shape) === `["batch",${4 + m.classes.length},2100]`, `output shape ${JSON.stringify(output.shape)}`)
  }
  const { width, height } = inputSize(m)
  const samples = JSON.parse(readFileSync('models/samples/samples.json', 'utf8')) as {
    samples: { file: string; boxes: { class: string; box: Box }[] }[]
  }
  const thresholds = classThresholds(m)
  let matched = 0
  let total = 0
  const batch: Float32Array[] = []
  for (const s of samples.samples) {
    const { data, letterbox } = await letterboxFile(join('models/samples', s.file), width, height)
    batch.push(data)
    const out = (await session.run({ images: new ort.Tensor('float32', data, [1, 3, height, width]) })).output0!
    const scores = (out.data as Float32Array).subarray(4 * 2100)
    check(scores.every((v) => v >= 0 && v <= 1), `${s.file}: scores within 0..1`)
    const dets = decodeDetections({ data: out.data as Float32Array, dims: out.dims }, { classes: m.classes, scoreThreshold: thresholds, iouThreshold: m.thresholds.iou, letterbox })
    for (const gt of s.boxes) {
      total++
      if (dets.some((d) => d.class === gt.class && iou(d.box, gt.box) >= 0.5)) matched++
    }
    const extra = dets.filter((d) => !s.boxes.some((g) => g.class === d.class && iou(d.box, g.box) >= 0.5))
    console.log(`     ${s.file}: ${s.boxes.length} truth, ${dets.length} detected, ${extra.length} unmatched: ${dets.map((d) => `${d.class} ${d.score.toFixed(2)}`).join(', ')}`)
  }
  check(matched / Math.max(1, total) >= 0.8, `samples: ${matched}/${total} ground-truth boxes found at the manifest thresholds`)
  // Dynamic batch: the same two frames in one batch give the same numbers as one by one.
  const two = new Float32Array(2 * 3 * width * height)
  two.set(batch[0]!, 0)
  two.set(batch[1]!, batch[0]!.length)
  const both = (await session.run({ images: new ort.Tensor('float32', two, [2, 3, height, width]) })).output0!
  const single = (await session.run({ images: new ort.Tensor('float32', batch[1]!, [1, 3, height, width]) })).output0!
  const half = (both.data as Float32Array).subarray(both.data.length / 2)
  const maxDiff = half.reduce((mx, v, i) => Math.max(mx, Math.abs(v - (single.data as Float32Array)[i]!)), 0)
  check(both.dims.join() === `2,${4 + m.classes.length},2100` && maxDiff < 1e-3, `batch 2 runs and matches batch 1 (max diff ${maxDiff.toExponential(1)})`)
}

async function checkPrefilter(dir: string) {
  const m = load<PrefilterManifest>(dir)
  const file = join(dir, m.file)
  check(sha256(file) === m.sha256, 'prefilter sha256 matches manifest')
  const session = await ort.InferenceSession.create(file)
  check(session.inputNames.join() === 'frame,reference', `prefilter inputs ${session.inputNames.join()}`)
  check(JSON.stringify(session.outputNames) === JSON.stringify(m.output.outputs), `prefilter outputs ${session.outputNames.join()}`)
  const goldenFrames = 'models/.cache/prefilter-golden.f32'
  if (!existsSync(goldenFrames)) {
    console.log('     (no golden frames in models/.cache: run train_prefilter.py to compare with numpy)')
    return
  }
  const frames = new Float32Array(readFileSync(goldenFrames).buffer.slice(0))
  const n = 3 * 120 * 160
  const out = await session.run({
    frame: new ort.Tensor('float32', frames.slice(0, n), [1, 3, 120, 160]),
    reference: new ort.Tensor('float32', frames.slice(n, 2 * n), [1, 3, 120, 160]),
  })
  const golden = JSON.parse(readFileSync('models/.cache/prefilter-golden.json', 'utf8')) as Record<string, number>
  for (const [name, want] of Object.entries(golden)) {
    const got = (out[name]?.data as Float32Array | undefined)?.[0] ?? Number.NaN
    check(Math.abs(got - want) <= 1e-4 + 1e-3 * Math.abs(want), `prefilter ${name} = ${got.toPrecision(5)} (numpy ${want.toPrecision(5)})`)
  }
}

await checkDetector('models/detector')
await checkPrefilter('models/prefilter')
if (failures.length) {
  console.error(`${failures.length} check(s) failed`)
  process.exit(1)
}
