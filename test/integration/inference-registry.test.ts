/**
 * The model registry against real files and real onnxruntime sessions: refusals name the file at
 * fault and never stop the other models; new versions swap in under load without a failed frame.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import {
  copy,
  detectorSource,
  makeModelsDir,
  manifestFor,
  nonDetectorOnnx,
  sampleFrames,
  testSettings,
  type ModelsDir,
} from '../fixtures/inference.ts'
import { InferenceError, type ModelLoadError } from '../../server/inference/types.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { waitFor } from '../helpers/wait.ts'

const source = detectorSource()
if (!source) console.warn('inference-registry: no detector model (models/detector or test/.tmp/models/detector); skipped')

const quiet = { info() {}, warn() {}, error() {} }

describe.skipIf(!source)('model registry', () => {
  let models: ModelsDir | undefined
  let engine: PoolInferenceEngine | undefined

  afterEach(async () => {
    await engine?.close()
    await models?.remove()
    engine = undefined
    models = undefined
  })

  test('refuses a bad sha256, a bad manifest and a non-detector, naming each file, while the others load', async () => {
    models = await makeModelsDir(source!)
    const base = await models.addDetector('detector')
    await models.addDetector('second', (m) => (m.version = '2.0.0'))
    await models.addDetector('badsha', (m) => (m.sha256 = '0'.repeat(64)))
    await models.addRaw('badmanifest', { 'manifest.json': JSON.stringify({ ...base, name: 'badmanifest', classes: [] }) })
    await models.addRaw('brokenjson', { 'manifest.json': '{"name": "brokenjson",' })
    const foreign = nonDetectorOnnx()
    await models.addRaw('notdetector', { 'means.onnx': foreign, 'manifest.json': JSON.stringify(manifestFor(base, 'notdetector', 'means.onnx', foreign)) })
    await models.addRaw('tools', { 'README.txt': 'not a model folder: no manifest.json' })

    const rejected = new Map<string, ModelLoadError>()
    engine = await createInferenceEngine({ settings: testSettings(models.dir), log: quiet, hooks: { onModelRejected: (e) => rejected.set(e.name, e.error) } })

    expect(engine.models().map((m) => m.name).sort()).toEqual(['detector', 'second'])
    expect([...rejected.keys()].sort()).toEqual(['badmanifest', 'badsha', 'brokenjson', 'notdetector'])
    expect(rejected.get('badsha')!.code).toBe('sha_mismatch')
    expect(rejected.get('badsha')!.message).toContain(join(models.dir, 'badsha', 'detector.onnx'))
    expect(rejected.get('badmanifest')!.code).toBe('bad_manifest')
    expect(rejected.get('badmanifest')!.message).toContain(join(models.dir, 'badmanifest', 'manifest.json'))
    expect(rejected.get('badmanifest')!.message).toContain('classes')
    expect(rejected.get('brokenjson')!.code).toBe('bad_manifest')
    expect(rejected.get('brokenjson')!.message).toContain(join(models.dir, 'brokenjson', 'manifest.json'))
    expect(rejected.get('notdetector')!.code).toBe('not_a_detector')
    expect(rejected.get('notdetector')!.message).toContain(join(models.dir, 'notdetector', 'means.onnx'))
    expect(rejected.get('notdetector')!.message).toContain('[1, 3]')

    // Both good models serve; a frame without a model goes to the default one.
    const [frame] = await sampleFrames()
    const a = await engine.infer({ frameId: 'a', image: copy(frame!.bytes) })
    const b = await engine.infer({ frameId: 'b', image: copy(frame!.bytes), model: 'second' })
    expect(a.model).toEqual({ name: 'detector', version: base.version })
    expect(b.model).toEqual({ name: 'second', version: '2.0.0' })
    const unknown = await engine.infer({ frameId: 'c', image: copy(frame!.bytes), model: 'notdetector' }).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(InferenceError)
    expect((unknown as InferenceError).code).toBe('unknown_model')
  })

  test('swaps a new version in under load: no call fails, and each answer names the version serving when it was asked', async () => {
    models = await makeModelsDir(source!)
    const old = await models.addDetector('detector', (m) => (m.version = '1.0.0-old'))
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { workers: 2, batchMaxSize: 2, batchMaxDelayMs: 1 }), log: quiet })
    const frames = await sampleFrames()

    const calls: { seq: number; version?: string; error?: unknown }[] = []
    let seq = 0
    let swapAsked = Infinity
    let swapDone = Infinity
    let stop = false
    const client = async () => {
      while (!stop) {
        const call: (typeof calls)[number] = { seq: seq++ }
        calls.push(call)
        try {
          call.version = (await engine!.infer({ frameId: `f${call.seq}`, image: copy(frames[call.seq % frames.length]!.bytes) })).model.version
        } catch (e) {
          call.error = e
        }
      }
    }
    const clients = [client(), client(), client(), client()]
    await waitFor(() => calls.filter((c) => c.version).length >= 20, { what: 'frames flowing on the old version', timeoutMs: 30_000 })

    await models.addDetector('detector', (m) => (m.version = '2.0.0-new'))
    swapAsked = seq
    const loaded = await engine.reload('detector')
    swapDone = seq
    expect(loaded.version).toBe('2.0.0-new')
    await waitFor(() => calls.filter((c) => c.version === '2.0.0-new').length >= 20, { what: 'frames on the new version', timeoutMs: 30_000 })
    stop = true
    await Promise.all(clients)

    expect(calls.filter((c) => c.error)).toEqual([])
    for (const c of calls) expect([old.version, '2.0.0-new']).toContain(c.version)
    for (const c of calls.filter((c) => c.seq < swapAsked)) expect(c.version).toBe(old.version)
    for (const c of calls.filter((c) => c.seq >= swapDone)) expect(c.version).toBe('2.0.0-new')
    // One swap point: after the first frame on the new version, no frame was given the old one.
    const firstNew = Math.min(...calls.filter((c) => c.version === '2.0.0-new').map((c) => c.seq))
    expect(calls.filter((c) => c.seq > firstNew && c.version === old.version)).toEqual([])

    // The old version drains, then its sessions are released in every worker.
    await waitFor(() => engine!.versions().every((v) => v.state === 'serving'), { what: 'the old version released', timeoutMs: 30_000 })
    expect(engine.versions()).toEqual([{ name: 'detector', version: '2.0.0-new', state: 'serving', inflight: 0 }])
  })

  test('a new version that fails to load leaves the running one serving', async () => {
    models = await makeModelsDir(source!)
    const running = await models.addDetector('detector', (m) => (m.version = '1.0.0'))
    engine = await createInferenceEngine({ settings: testSettings(models.dir), log: quiet })
    const [frame] = await sampleFrames()

    await models.addDetector('detector', (m) => {
      m.version = '1.1.0'
      m.sha256 = 'f'.repeat(64)
    })
    const bad = await engine.reload('detector').catch((e: unknown) => e as ModelLoadError)
    expect((bad as ModelLoadError).code).toBe('sha_mismatch')

    const foreign = nonDetectorOnnx()
    const base = JSON.parse(await readFile(join(models.dir, 'detector', 'manifest.json'), 'utf8')) as DetectManifest
    await writeFile(join(models.dir, 'detector', 'means.onnx'), foreign)
    await writeFile(join(models.dir, 'detector', 'manifest.json'), JSON.stringify({ ...manifestFor(base, 'detector', 'means.onnx', foreign), version: '1.2.0' }))
    const notDetector = await engine.reload('detector').catch((e: unknown) => e as ModelLoadError)
    expect((notDetector as ModelLoadError).code).toBe('not_a_detector')

    // Same version, different bytes: refused, a version must name one file.
    await writeFile(join(models.dir, 'detector', 'manifest.json'), JSON.stringify({ ...manifestFor(base, 'detector', 'means.onnx', foreign), version: '1.0.0' }))
    const conflict = await engine.reload('detector').catch((e: unknown) => e as ModelLoadError)
    expect((conflict as ModelLoadError).code).toBe('version_conflict')

    expect(engine.models().map((m) => m.version)).toEqual([running.version])
    const o = await engine.infer({ frameId: 'after', image: copy(frame!.bytes) })
    expect(o.model.version).toBe(running.version)
  })

  test('the models folder watcher loads a new version and a new model dropped in while running', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector', (m) => (m.version = '1.0.0'))
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { modelsWatch: true, modelsWatchDebounceMs: 100 }), log: quiet })

    await models.addDetector('detector', (m) => (m.version = '1.0.1'))
    await waitFor(() => engine!.models().find((m) => m.name === 'detector' && m.version === '1.0.1'), { what: 'version 1.0.1 serving', timeoutMs: 30_000 })
    await models.addDetector('late', (m) => (m.version = '0.1.0'))
    await waitFor(() => engine!.models().find((m) => m.name === 'late'), { what: 'model "late" serving', timeoutMs: 30_000 })

    const [frame] = await sampleFrames()
    expect((await engine.infer({ frameId: 'w', image: copy(frame!.bytes), model: 'late' })).model).toEqual({ name: 'late', version: '0.1.0' })
  })
})
