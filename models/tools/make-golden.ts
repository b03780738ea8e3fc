/**
 * Writes models/samples/golden.json: the default detector's detections on every sample, computed
 * with onnxruntime-node on the server's own preprocessing, plus the ground-truth boxes it misses.
 * Run after retraining: `npx tsx models/tools/make-golden.ts`. The runtime-parity test then holds
 * every runtime (node, browser WASM, browser WebGPU) to these outputs.
 */
import { writeFile } from 'node:fs/promises'
import { GOLDEN_PATH, decode, missing, type GoldenFile } from '../../test/helpers/golden.ts'
import { loadDetector, nodeRuntime, prepare } from '../../test/helpers/runtimes.ts'
import { loadSamples } from '../../test/helpers/samples.ts'

const { manifest, file } = await loadDetector()
const runtime = await nodeRuntime(file, manifest)
const golden: GoldenFile = { model: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 }, samples: [] }
for (const s of loadSamples()) {
  const { input, letterbox } = await prepare(s.bytes, manifest)
  const detections = decode(await runtime.run(input), manifest, letterbox)
  const knownMisses = missing(s.boxes, detections)
  golden.samples.push({ file: s.file, detections, knownMisses })
  console.log(`${s.file}: ${detections.length} detections, ${knownMisses.length} ground-truth boxes missed`)
}
await runtime.close()
await writeFile(GOLDEN_PATH, `${JSON.stringify(golden, null, 1)}\n`)
console.log(`wrote ${GOLDEN_PATH}`)
