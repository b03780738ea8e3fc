/**
 * Evaluates an exported detector (the ONNX file itself, in onnxruntime-node) on a YOLO-format split.
 *
 *   npx tsx models/tools/evaluate.ts --model models/detector --data models/data/test [--write-md] [--json out.json]
 *
 * Pipeline = the platform's: letterbox to the manifest's input size (pad 114), RGB 0..1 NCHW, the
 * shared decoder (shared/inference: decodeDetections + class-aware NMS) at conf 0.001, IoU 0.7,
 * max 300 boxes (Ultralytics' validation settings), boxes mapped back to source pixels.
 * Reports COCO-style mAP@0.5 and mAP@0.5:0.95 overall and per class, plus per-class best-F1
 * score thresholds (used to calibrate the manifest on the validation split, never on test).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import * as ort from 'onnxruntime-node'
import { parseManifest, inputSize, type DetectManifest } from '../../shared/domain/manifest.ts'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { ApAccumulator, IOU_THRESHOLDS } from './lib/average-precision.ts'
import { letterboxFile } from './lib/preprocess.ts'
import { listImages, readYoloLabels } from './lib/yolo-labels.ts'

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/detector' },
    data: { type: 'string', default: 'models/data/test' },
    json: { type: 'string' },
    'write-md': { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    limit: { type: 'string', default: '0' },
  },
})

const modelDir = values.model!
const manifest = parseManifest(JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')), join(modelDir, 'manifest.json'))
if (manifest.task !== 'detect') throw new Error(`${modelDir}: not a detection model (task ${manifest.task})`)
const detect: DetectManifest = manifest
const { width, height } = inputSize(detect)
const session = await ort.InferenceSession.create(join(modelDir, detect.file), {
  intraOpNumThreads: Number(values.threads),
  graphOptimizationLevel: 'all',
})

const split = values.data!
let images = listImages(split)
if (Number(values.limit) > 0) images = images.slice(0, Number(values.limit))
const acc = new ApAccumulator(detect.classes.length)
const started = performance.now()
let gtCount = 0
for (const image of images) {
  const file = join(split, 'images', image)
  const { data, letterbox } = await letterboxFile(file, width, height)
  const feeds = { [detect.input.name]: new ort.Tensor('float32', data, [1, 3, height, width]) }
  const out = (await session.run(feeds))[detect.output.name]
  if (!out) throw new Error(`model has no output named ${detect.output.name}`)
  const detections = decodeDetections(
    { data: out.data as Float32Array, dims: out.dims },
    { classes: detect.classes, scoreThreshold: 0.001, iouThreshold: 0.7, maxDetections: 300, letterbox },
  )
  const truth = readYoloLabels(split, image, letterbox.srcWidth, letterbox.srcHeight)
  gtCount += truth.length
  acc.addImage(detections, truth)
}
const seconds = (performance.now() - started) / 1000

const ap = acc.result()
const mean = (xs: number[]) => {
  const v = xs.filter((x) => !Number.isNaN(x))
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN
}
const perClass = detect.classes.map((name, c) => ({
  class: name,
  instances: 0,
  mAP50: ap[c]![0]!,
  mAP50_95: mean(ap[c]!),
}))
const report = {
  model: relative(process.cwd(), join(modelDir, detect.file)),
  data: relative(process.cwd(), split),
  images: images.length,
  instances: gtCount,
  iouThresholds: IOU_THRESHOLDS.map((t) => +t.toFixed(2)),
  mAP50: mean(perClass.map((p) => p.mAP50)),
  mAP50_95: mean(perClass.map((p) => p.mAP50_95)),
  perClass,
  bestF1: Object.fromEntries(acc.bestF1().map((b, c) => [detect.classes[c]!, b])),
  seconds: +seconds.toFixed(1),
}
// Instance counts per class, for the table.
for (const image of images) {
  for (const t of readYoloLabels(split, image, 1, 1)) {
    const row = perClass[t.classId]
    if (row) row.instances++
  }
}
const round = (x: number) => +x.toFixed(4)
console.log(`mAP@0.5 ${round(report.mAP50)}  mAP@0.5:0.95 ${round(report.mAP50_95)}  (${images.length} images, ${seconds.toFixed(0)} s)`)
for (const p of perClass) console.log(`  ${p.class.padEnd(8)} n=${String(p.instances).padStart(5)}  AP50 ${round(p.mAP50)}  AP50-95 ${round(p.mAP50_95)}`)
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n')
if (values['write-md']) writeFileSync(join(modelDir, 'EVAL.md'), evalMarkdown(report))

function evalMarkdown(r: typeof report): string {
  const f = (x: number) => x.toFixed(3)
  const rows = r.perClass.map((p) => `| ${p.class} | ${p.instances} | ${f(p.mAP50)} | ${f(p.mAP50_95)} |`).join('\n')
  const training = detect.training ?? {}
  return `# ${detect.name} ${detect.version}: evaluation

Measured on the exported ONNX file (\`${r.model}\`, sha256 \`${detect.sha256}\`) in onnxruntime-node,
through the platform's own decoder (\`shared/inference/decode.ts\`), on the held-out split \`${r.data}\`.

| class | instances | mAP@0.5 | mAP@0.5:0.95 |
|---|---:|---:|---:|
${rows}
| **all** | ${r.instances} | **${f(r.mAP50)}** | **${f(r.mAP50_95)}** |

- ${r.images} images 640x480; letterbox to ${width}x${height}, pad 114; conf 0.001, class-aware NMS IoU 0.7, max 300
  boxes per image; COCO 101-point interpolated AP, IoU thresholds 0.50:0.05:0.95, mean over classes.
- Dataset: synthetic, \`models/tools/dataset.py\`. Image i of split S is rendered from seed
  \`base * 10_000_000 + code(S) * 1_000_000 + i\` (train 0, val 1, test 2), so no test seed was ever
  trained on. Training: ${JSON.stringify(training)}.

Reproduce (after \`bash models/tools/train.sh\`, or with the committed model and a regenerated test split):

\`\`\`
/usr/bin/python3 models/tools/dataset.py --out models/data --train 0 --val 0 --test ${r.images}
npx tsx models/tools/evaluate.ts --model ${relative(process.cwd(), modelDir)} --data ${r.data}
\`\`\`
`
}
