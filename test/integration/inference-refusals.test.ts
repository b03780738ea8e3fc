/**
 * Frames the engine must refuse, and keep serving afterwards: bytes that are not an image, formats
 * it does not take, and images over MAX_PIXELS, refused from the header before any pixel is decoded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import sharp from 'sharp'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, pngHeaderOnly, sampleFrames, syntheticJpeg, testSettings, type ModelsDir } from '../fixtures/inference.ts'
import { InferenceError } from '../../server/inference/types.ts'

const source = detectorSource()
if (!source) console.warn('inference-refusals: no detector model; skipped')

const MAX_PIXELS = 2_000_000

describe.skipIf(!source)('frames the engine refuses', () => {
  let models: ModelsDir
  let engine: PoolInferenceEngine
  let good: Uint8Array

  beforeAll(async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { maxPixels: MAX_PIXELS }), log: { info() {}, warn() {}, error() {} } })
    good = (await sampleFrames())[0]!.bytes
  })

  afterAll(async () => {
    await engine?.close()
    await models?.remove()
  })

  async function refusal(image: Uint8Array): Promise<InferenceError> {
    const r = await engine.infer({ frameId: 'x', image }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(r).toBeInstanceOf(InferenceError)
    return r as InferenceError
  }

  async function stillServes(): Promise<void> {
    const o = await engine.infer({ frameId: 'ok', image: copy(good) })
    expect(o.model.name).toBe('detector')
  }

  test.each([
    ['random bytes', () => Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)],
    ['an empty buffer', () => new Uint8Array(0)],
    ['a truncated JPEG', () => copy(good.subarray(0, Math.floor(good.length / 2)))],
  ])('refuses %s as undecodable (permanent) and keeps serving', async (_what, make) => {
    const e = await refusal(make())
    expect([e.code, e.permanent]).toEqual(['undecodable', true])
    await stillServes()
  })

  test('refuses an image format it does not take (SVG) as undecodable', async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>')
    const e = await refusal(svg)
    expect(e.code).toBe('undecodable')
    expect(e.message).toContain('svg')
    await stillServes()
  })

  test('refuses a real image over MAX_PIXELS as too_many_pixels (permanent)', async () => {
    const big = await syntheticJpeg(2000, 1200, 1) // 2.4 MP > 2 MP
    const e = await refusal(big)
    expect([e.code, e.permanent]).toEqual(['too_many_pixels', true])
    expect(e.message).toContain('2000x1200')
    await stillServes()
  })

  test('refuses a decompression bomb from its header alone: 50000 x 50000 claimed in a 60-byte PNG', async () => {
    const bomb = pngHeaderOnly(50_000, 50_000)
    expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(50_000)
    const e = await refusal(bomb)
    expect([e.code, e.permanent]).toEqual(['too_many_pixels', true])
    await stillServes()
  })

  test('accepts an image just under MAX_PIXELS and a PNG with alpha', async () => {
    const under = await syntheticJpeg(1600, 1200, 2) // 1.92 MP
    expect((await engine.infer({ frameId: 'under', image: under })).width).toBe(1600)
    const png = await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } }).png().toBuffer()
    const o = await engine.infer({ frameId: 'png', image: new Uint8Array(png) })
    expect([o.width, o.height]).toEqual([300, 200])
  })
})
