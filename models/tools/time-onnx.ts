/**
 * Measures one ONNX model's latency in onnxruntime-node the way the inference worker runs it:
 * batch 1, `intraOpNumThreads` threads (2 = the platform's CPU budget), after a warm-up.
 *
 *   npx tsx models/tools/time-onnx.ts models/detector/detector.onnx [--threads 2] [--runs 300]
 *
 * Prints a median and p90 in ms; it asserts nothing, the budget is judged by whoever reads it.
 */
import { parseArgs } from 'node:util'
import * as ort from 'onnxruntime-node'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: 'string', default: '2' }, runs: { type: 'string', default: '300' }, warmup: { type: 'string', default: '30' } },
})
const file = positionals[0]
if (!file) throw new Error('usage: time-onnx.ts <model.onnx> [--threads N] [--runs N]')

const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: Number(values.threads),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
})
const feeds: Record<string, ort.Tensor> = {}
for (const [i, name] of session.inputNames.entries()) {
  const meta = session.inputMetadata[i]
  if (!meta || !meta.isTensor) throw new Error(`input ${name} is not a tensor`)
  // A dynamic batch axis is timed at batch 1, as the worker runs frames one by one.
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1))
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => Math.random())
  feeds[name] = new ort.Tensor('float32', data, dims)
}

for (let i = 0; i < Number(values.warmup); i++) await session.run(feeds)
const times: number[] = []
for (let i = 0; i < Number(values.runs); i++) {
  const t0 = process.hrtime.bigint()
  await session.run(feeds)
  times.push(Number(process.hrtime.bigint() - t0) / 1e6)
}
times.sort((a, b) => a - b)
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!
console.log(
  JSON.stringify({ model: file, threads: Number(values.threads), runs: times.length, medianMs: +q(0.5).toFixed(3), p90Ms: +q(0.9).toFixed(3), minMs: +times[0]!.toFixed(3) }),
)
await session.release()
