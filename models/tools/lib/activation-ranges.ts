/**
 * Min/max of every graph output over some frames, in onnxruntime-node: the calibration step of
 * static quantization (make_fixtures.py adds the tensors to calibrate as extra outputs first).
 *
 *   npx tsx models/tools/lib/activation-ranges.ts <model.onnx> <image>... > ranges.json
 */
import * as ort from 'onnxruntime-node'
import { letterboxFile } from './preprocess.ts'

const [file, ...images] = process.argv.slice(2)
if (!file || images.length === 0) throw new Error('usage: activation-ranges.ts <model.onnx> <image>...')
const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' })
const input = session.inputMetadata[0]
if (!input?.isTensor) throw new Error('first input is not a tensor')
const [height, width] = input.shape.slice(-2) as [number, number]
const ranges: Record<string, [number, number]> = {}
for (const image of images) {
  const { data } = await letterboxFile(image, width, height)
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [1, 3, height, width]) })
  for (const [name, t] of Object.entries(out)) {
    let lo = Number.POSITIVE_INFINITY
    let hi = Number.NEGATIVE_INFINITY
    for (const v of t.data as Float32Array) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    const r = ranges[name]
    ranges[name] = r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi]
  }
}
process.stdout.write(JSON.stringify(ranges))
