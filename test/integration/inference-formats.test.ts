/**
 * Models linesight did not train (test/fixtures/models, see its README): every detection layout the
 * shared decoder knows loads and answers through the engine, int8 graphs included; a classifier is
 * refused at load, naming its file; a manifest that misstates the layout is refused too.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, REPO, sampleFrames, sha256, type ModelsDir, testSettings } from '../fixtures/inference.ts'
import type { ModelLoadError } from '../../server/inference/types.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { iou } from '../../shared/inference/letterbox.ts'

const FIXTURES = join(REPO, 'test/fixtures/models')
const source = detectorSource()
const present = existsSync(join(FIXTURES, 'yolov8-coco80-640.onnx')) && !!source
if (!present) console.warn('inference-formats: test/fixtures/models or the detector is missing; skipped')

const names = (n: number) => Array.from({ length: n }, (_, i) => `class${i}`)

interface Case {
  name: string
  file: string
  size: number
  format: DetectManifest['output']['format']
  classes: string[]
}

const LOADS: Case[] = [
  { name: 'v8-coco-640', file: 'yolov8-coco80-640.onnx', size: 640, format: 'yolov8', classes: names(80) },
  { name: 'v8-one-class', file: 'yolov8-1class-320.onnx', size: 320, format: 'yolov8', classes: ['widget'] },
  { name: 'v5-coco', file: 'yolov5-coco80-320.onnx', size: 320, format: 'yolov5', classes: names(80) },
  { name: 'end2end-coco', file: 'end2end-coco80-320.onnx', size: 320, format: 'end2end', classes: names(80) },
]

describe.skipIf(!present)('model formats', () => {
  let models: ModelsDir
  let engine: PoolInferenceEngine
  const rejected = new Map<string, ModelLoadError>()
  let base: DetectManifest

  async function add(c: Case, over: Partial<DetectManifest> = {}) {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, c.file)))
    const m: DetectManifest = {
      ...structuredClone(base),
      name: c.name,
      version: '1.0.0',
      file: c.file,
      sha256: sha256(bytes),
      input: { ...base.input, shape: [-1, 3, c.size, c.size] },
      output: { name: 'output0', format: c.format },
      classes: c.classes,
      defectClasses: c.classes.slice(0, 1),
      thresholds: { score: {}, iou: 0.5 },
      ...over,
    }
    await models.addRaw(c.name, { [c.file]: bytes, 'manifest.json': JSON.stringify(m) })
  }

  beforeAll(async () => {
    models = await makeModelsDir(source!)
    base = await models.addDetector('detector')
    for (const c of LOADS) await add(c)
    await add({ name: 'int8-qdq', file: 'detector-int8-qdq.onnx', size: 320, format: 'yolov8', classes: base.classes }, { thresholds: base.thresholds, defectClasses: base.defectClasses })
    await add({ name: 'int8-dynamic', file: 'detector-int8-dynamic.onnx', size: 320, format: 'yolov8', classes: base.classes }, { thresholds: base.thresholds, defectClasses: base.defectClasses })
    await add({ name: 'classifier', file: 'classifier-1000.onnx', size: 224, format: 'yolov8', classes: names(2) })
    // A YOLOv5 file whose manifest claims the YOLOv8 layout.
    await add({ name: 'v5-as-v8', file: 'yolov5-coco80-320.onnx', size: 320, format: 'yolov8', classes: names(80) })
    engine = await createInferenceEngine({
      settings: testSettings(models.dir, { batchMaxSize: 2, batchMaxDelayMs: 1 }),
      log: { info() {}, warn() {}, error() {} },
      hooks: { onModelRejected: (e) => rejected.set(e.name, e.error) },
    })
  })

  afterAll(async () => {
    await engine?.close()
    await models?.remove()
  })

  test.each([...LOADS.map((c) => c.name), 'int8-qdq', 'int8-dynamic'])('%s loads and answers frames in source pixels', async (name) => {
    const [a, b] = await sampleFrames()
    const outs = await Promise.all([a!, b!].map((f, i) => engine.infer({ frameId: `${name}-${i}`, image: copy(f.bytes), model: name })))
    for (const o of outs) {
      expect(o.model.name).toBe(name)
      for (const d of o.detections) {
        expect(d.box[0]).toBeGreaterThanOrEqual(0)
        expect(d.box[2]).toBeLessThanOrEqual(o.width)
        expect(d.box[3]).toBeLessThanOrEqual(o.height)
        expect(d.score).toBeGreaterThan(0)
      }
    }
  })

  test('the int8 detectors find the parts the float detector finds on the sample frames', async () => {
    let parts = 0
    let agree = 0
    for (const f of await sampleFrames()) {
      const [ref, qdq, dyn] = await Promise.all(['detector', 'int8-qdq', 'int8-dynamic'].map((model) => engine.infer({ frameId: `q-${model}-${f.name}`, image: copy(f.bytes), model })))
      for (const d of ref!.detections.filter((x) => x.class === 'part')) {
        parts++
        const near = (o: typeof qdq) => o!.detections.some((q) => q.class === 'part' && iou(q.box, d.box) > 0.5)
        if (near(qdq) && near(dyn)) agree++
      }
    }
    expect(parts).toBeGreaterThan(0)
    // The fixtures were quantized from an earlier training of the detector: most, not all, must agree.
    expect(agree / parts).toBeGreaterThanOrEqual(0.5)
  })

  test('a classifier is refused at load as not a detector, naming its file', () => {
    const e = rejected.get('classifier')
    expect(e?.code).toBe('not_a_detector')
    expect(e?.message).toContain(join(models.dir, 'classifier', 'classifier-1000.onnx'))
    expect(e?.message).toContain('[1, 1000]')
  })

  test('a manifest that misstates the output layout is refused', () => {
    expect(rejected.get('v5-as-v8')?.code).toBe('not_a_detector')
    expect(engine.models().map((m) => m.name)).not.toContain('v5-as-v8')
  })
})

