/**
 * Runs a float detector and its quantized copies on the sample frames in onnxruntime-node and
 * reports how close their detections are (matched boxes, IoU, score difference).
 *
 *   npx tsx models/tools/compare-quantized.ts models/detector/detector.onnx test/fixtures/models/detector-int8-qdq.onnx ...
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { iou } from '../../shared/inference/letterbox.ts'
import type { Detection } from '../../shared/domain/detection.ts'
import { letterboxFile } from './lib/preprocess.ts'

const [reference, ...quantized] = process.argv.slice(2)
if (!reference || quantized.length === 0) throw new Error('usage: compare-quantized.ts <float.onnx> <quantized.onnx>...')
const manifest = JSON.parse(readFileSync('models/detector/manifest.json', 'utf8')) as { classes: string[] }
const samples = (JSON.parse(readFileSync('models/samples/samples.json', 'utf8')) as { samples: { file: string }[] }).samples

async function detect(session: ort.InferenceSession, file: string): Promise<Detection[]> {
  const { data, letterbox } = await letterboxFile(join('models/samples', file), 320, 320)
  const out = (await session.run({ images: new ort.Tensor('float32', data, [1, 3, 320, 320]) })).output0!
  return decodeDetections({ data: out.data as Float32Array, dims: out.dims }, { classes: manifest.classes, scoreThreshold: 0.25, iouThreshold: 0.5, letterbox })
}

const base = await ort.InferenceSession.create(reference, { intraOpNumThreads: 2 })
const results: Record<string, unknown>[] = []
for (const q of quantized) {
  const session = await ort.InferenceSession.create(q, { intraOpNumThreads: 2 })
  let ref = 0
  let matched = 0
  let iouSum = 0
  let scoreDiff = 0
  for (const s of samples) {
    const a = await detect(base, s.file)
    const b = await detect(session, s.file)
    ref += a.length
    for (const d of a) {
      const best = b.filter((e) => e.classId === d.classId).map((e) => ({ e, v: iou(d.box, e.box) })).sort((x, y) => y.v - x.v)[0]
      if (best && best.v >= 0.5) {
        matched++
        iouSum += best.v
        scoreDiff = Math.max(scoreDiff, Math.abs(best.e.score - d.score))
      }
    }
  }
  results.push({ model: q, floatDetections: ref, matched, meanIou: +(iouSum / Math.max(1, matched)).toFixed(3), maxScoreDiff: +scoreDiff.toFixed(3) })
}
console.log(JSON.stringify(results, null, 2))
