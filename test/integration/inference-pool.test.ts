/**
 * Live resizing and shutdown of the worker pool with real threads: workers come and go under load
 * without a failed frame, and close() answers everything it was already given.
 */
import sharp from 'sharp'
import { afterEach, describe, expect, test } from 'vitest'
import { verdictOf } from '../../shared/domain/verdict.ts'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, sampleFrames, testSettings, type ModelsDir } from '../fixtures/inference.ts'
import { waitFor } from '../helpers/wait.ts'
import { InferenceError } from '../../server/inference/types.ts'

const source = detectorSource()
if (!source) console.warn('inference-pool: no detector model; skipped')

const quiet = { info() {}, warn() {}, error() {} }

describe.skipIf(!source)('worker pool', () => {
  let models: ModelsDir | undefined
  let engine: PoolInferenceEngine | undefined

  afterEach(async () => {
    await engine?.close()
    await models?.remove()
    engine = undefined
  })

  test('setWorkers grows and shrinks the pool under load without failing a frame', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { workers: 1 }), log: quiet })
    const frames = await sampleFrames()
    const e = engine

    let stop = false
    let done = 0
    const errors: unknown[] = []
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        await e.infer({ frameId: `c${c}-${i}`, image: copy(frames[i % frames.length]!.bytes) }).then(() => done++, (err: unknown) => errors.push(err))
      }
    }
    const clients = [0, 1, 2, 3].map(client)

    await e.setWorkers(3)
    expect(e.status().workers).toBe(3)
    await waitFor(() => e.status().busyWorkers >= 2, { what: 'every worker taking frames', timeoutMs: 30_000 })
    const before = done
    await e.setWorkers(1)
    expect(e.status().workers).toBe(1)
    await waitFor(() => done >= before + 10, { what: 'frames still flowing on one worker', timeoutMs: 30_000 })
    stop = true
    await Promise.all(clients)

    expect(errors).toEqual([])
    await expect(e.setWorkers(0)).rejects.toThrow(RangeError)
  })

  test('close() answers every frame it was already given, then refuses new ones', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { workers: 1, batchMaxSize: 4, batchMaxDelayMs: 5 }), log: quiet })
    const frames = await sampleFrames()
    const e = engine

    const pending = Array.from({ length: 16 }, (_, i) => e.infer({ frameId: `p${i}`, image: copy(frames[i % frames.length]!.bytes) }))
    const closing = e.close()
    const late = await e.infer({ frameId: 'late', image: copy(frames[0]!.bytes) }).catch((err: unknown) => err)
    expect((late as InferenceError).code).toBe('closed')

    const outcomes = await Promise.all(pending)
    expect(outcomes.map((o) => o.model.name)).toEqual(Array(16).fill('detector'))
    await closing
    expect(e.status().workers).toBe(0)
  })

  test('a failing frame comes back with a JPEG thumbnail made in the worker, a passing one without', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { workers: 1 }), log: quiet })
    const seen = { fail: 0, pass: 0 }
    for (const f of await sampleFrames()) {
      const o = await engine.infer({ frameId: `thumb-${f.name}`, image: copy(f.bytes) })
      const verdict = verdictOf(o.detections, o.defectClasses)
      seen[verdict]++
      if (verdict === 'pass') {
        expect(o.thumbnail, f.name).toBeUndefined()
        continue
      }
      const meta = await sharp(o.thumbnail!).metadata()
      expect(meta.format, f.name).toBe('jpeg')
      expect(Math.max(meta.width!, meta.height!), f.name).toBeLessThanOrEqual(320)
      // the frame's aspect ratio, within a pixel of rounding
      expect(Math.abs(meta.width! / meta.height! - o.width / o.height), f.name).toBeLessThan(0.01)
    }
    expect(seen.fail).toBeGreaterThan(0)
    expect(seen.pass).toBeGreaterThan(0)
  })

  test('a failing model-size frame is its own thumbnail, with nothing encoded again', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { workers: 1 }), log: quiet })
    let failing = 0
    for (const f of await sampleFrames()) {
      // what a station sends with the model-size uplink: 320x240 (a frame within the thumbnail's size)
      const small = new Uint8Array(await sharp(f.bytes).resize(320, 240, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer())
      const o = await engine.infer({ frameId: `own-${f.name}`, image: copy(small) })
      if (verdictOf(o.detections, o.defectClasses) === 'pass') continue
      failing++
      expect(o.thumbnail, f.name).toEqual(small)
    }
    expect(failing).toBeGreaterThan(0)
  })
})
