/**
 * Dynamic batching must not change answers: a frame gives the same detections whether it ran alone
 * or in a batch, and a frame refused inside a batch does not disturb its neighbours.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Detection } from '../../shared/domain/detection.ts'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, sampleFrames, testSettings, type ModelsDir } from '../fixtures/inference.ts'
import { InferenceError, type InferOutcome } from '../../server/inference/types.ts'

const source = detectorSource()
if (!source) console.warn('inference-batching: no detector model (models/detector or test/.tmp/models/detector); skipped')

const N = 4
// Low thresholds give the frames many detections, so agreement cannot be vacuous.
const LOW = { part: 0.001, scratch: 0.001, dent: 0.001, stain: 0.001, crack: 0.001 }

/** Detections agree when they pair up one to one: same class, score within float noise, boxes within 0.01 px. */
function expectSameDetections(a: Detection[], b: Detection[]): void {
  expect(a.length).toBe(b.length)
  const key = (d: Detection) => `${d.classId}:${d.box.map((v) => v.toFixed(1)).join(',')}`
  const bs = [...b].sort((x, y) => key(x).localeCompare(key(y)))
  const as = [...a].sort((x, y) => key(x).localeCompare(key(y)))
  as.forEach((d, i) => {
    const e = bs[i]!
    expect(d.classId).toBe(e.classId)
    expect(Math.abs(d.score - e.score)).toBeLessThan(1e-4)
    d.box.forEach((v, j) => expect(Math.abs(v - e.box[j]!)).toBeLessThan(1e-2))
  })
}

describe.skipIf(!source)('inference engine batching', () => {
  let models: ModelsDir
  let batched: PoolInferenceEngine
  let single: PoolInferenceEngine
  let frames: { name: string; bytes: Uint8Array }[]

  beforeAll(async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    frames = (await sampleFrames()).slice(0, N)
    // A batch only leaves when full (the delay is far longer than the test), so N frames make exactly one batch.
    batched = await createInferenceEngine({ settings: testSettings(models.dir, { batchMaxSize: N, batchMaxDelayMs: 60_000 }) })
    single = await createInferenceEngine({ settings: testSettings(models.dir, { batchMaxSize: 1 }) })
  })

  afterAll(async () => {
    await Promise.all([batched?.close(), single?.close()])
    await models?.remove()
  })

  test('a batch of N gives the same detections as N single runs', async () => {
    expect(frames.length).toBe(N)
    const inBatch = await Promise.all(frames.map((f, i) => batched.infer({ frameId: `b${i}`, image: copy(f.bytes), scoreThresholds: LOW })))
    const alone: InferOutcome[] = []
    for (const [i, f] of frames.entries()) alone.push(await single.infer({ frameId: `s${i}`, image: copy(f.bytes), scoreThresholds: LOW }))

    for (const o of inBatch) expect(o.batchSize).toBe(N)
    for (const o of alone) expect(o.batchSize).toBe(1)
    expect(inBatch.reduce((n, o) => n + o.detections.length, 0)).toBeGreaterThan(N)
    inBatch.forEach((o, i) => {
      expect([o.width, o.height]).toEqual([alone[i]!.width, alone[i]!.height])
      expectSameDetections(o.detections, alone[i]!.detections)
    })
  })

  test('a frame refused inside a batch fails alone; the rest of the batch is answered as if run singly', async () => {
    const garbage = new TextEncoder().encode('this is not an image')
    const inputs = [frames[0]!.bytes, garbage, frames[1]!.bytes, frames[2]!.bytes]
    const settled = await Promise.allSettled(inputs.map((b, i) => batched.infer({ frameId: `m${i}`, image: copy(b), scoreThresholds: LOW })))

    const refused = settled[1]!
    expect(refused.status).toBe('rejected')
    const err = (refused as PromiseRejectedResult).reason as InferenceError
    expect(err).toBeInstanceOf(InferenceError)
    expect([err.code, err.permanent]).toEqual(['undecodable', true])

    for (const [i, src] of [[0, 0], [2, 1], [3, 2]] as const) {
      const r = settled[i]!
      expect(r.status).toBe('fulfilled')
      const o = (r as PromiseFulfilledResult<InferOutcome>).value
      expect(o.batchSize).toBe(3) // the refused frame never reached the model
      const ref = await single.infer({ frameId: `r${i}`, image: copy(frames[src]!.bytes), scoreThresholds: LOW })
      expectSameDetections(o.detections, ref.detections)
    }
  })
})
