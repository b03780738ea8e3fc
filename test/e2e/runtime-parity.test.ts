/**
 * One suite, every runtime (hono's common.case.test.ts pattern): the default detector on the
 * committed samples must give the golden detections (IoU >= 0.99, score within 1e-3) and find
 * the ground truth (class, IoU >= 0.5) except the listed known misses, on onnxruntime-node and on
 * onnxruntime-web's WASM and WebGPU backends in headless Chromium (WebGPU runs on SwiftShader
 * here: slow, but the same shaders a tablet's GPU runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { chromiumMissing } from '../helpers/browser.ts'
import { decode, missing, parityProblems, readGolden } from '../helpers/golden.ts'
import { browserRuntime, loadDetector, nodeRuntime, prepare, type Runtime } from '../helpers/runtimes.ts'
import { loadSamples } from '../helpers/samples.ts'

const golden = readGolden()
const samples = loadSamples()
const noChromium = chromiumMissing()
if (noChromium) console.warn(`runtime parity: ${noChromium}; browser runtimes skipped`)

const runtimes: [string, (file: string, m: DetectManifest) => Promise<Runtime>, boolean][] = [
  ['onnxruntime-node (cpu)', nodeRuntime, false],
  ['onnxruntime-web (wasm)', (f, m) => browserRuntime(f, m, 'wasm'), true],
  ['onnxruntime-web (webgpu)', (f, m) => browserRuntime(f, m, 'webgpu'), true],
]

describe.each(runtimes)('%s', (_name, make, needsBrowser) => {
  let runtime: Runtime
  let manifest: DetectManifest
  beforeAll(async () => {
    if (needsBrowser && noChromium) return
    const d = await loadDetector()
    manifest = d.manifest
    runtime = await make(d.file, manifest)
  })
  afterAll(async () => {
    await runtime?.close()
  })

  it('runs the model the golden outputs were made with', () => {
    expect(golden.model.sha256).toBe(manifest?.sha256 ?? golden.model.sha256)
  })

  for (const sample of samples) {
    // WebGPU on SwiftShader compiles its shaders on the CPU: seconds per frame here, more under load
    it.skipIf(needsBrowser && !!noChromium)(`gives the golden detections on ${sample.file}`, { timeout: needsBrowser ? 300_000 : 60_000 }, async () => {
      const { input, letterbox } = await prepare(sample.bytes, manifest)
      const detections = decode(await runtime.run(input), manifest, letterbox)
      const g = golden.samples.find((s) => s.file === sample.file)!
      expect(parityProblems(g.detections, detections)).toEqual([])
      // the ground truth is found, except exactly the misses the golden file admits to
      expect(missing(sample.boxes, detections)).toEqual(g.knownMisses)
    })
  }
})
