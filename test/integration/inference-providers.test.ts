/**
 * Execution providers on this CPU-only machine: the CUDA provider is not installed (onnxruntime-node
 * does not bundle it). Asking for it must say so, with the command that installs it, and fall back
 * only when INFERENCE_EP_FALLBACK allows.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { createInferenceEngine, ProviderStartupError, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, sampleFrames, testSettings, type ModelsDir } from '../fixtures/inference.ts'

const source = detectorSource()
const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'))
const cudaInstalled = existsSync(join(ortDir, `bin/napi-v6/${process.platform}/${process.arch}/libonnxruntime_providers_cuda.so`))
if (!source) console.warn('inference-providers: no detector model; skipped')
if (cudaInstalled) console.warn('inference-providers: the CUDA provider is installed here, so its absence cannot be tested; skipped')

const INSTALL = '--onnxruntime-node-install=cuda12'

describe.skipIf(!source || cudaInstalled)('execution providers', () => {
  let models: ModelsDir | undefined
  let engine: PoolInferenceEngine | undefined

  afterEach(async () => {
    await engine?.close()
    await models?.remove()
    engine = undefined
  })

  test('asking for cuda without it installed falls back to cpu, reports why and how to install it', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    const warnings: string[] = []
    const log = { info() {}, error() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') }
    engine = await createInferenceEngine({ settings: testSettings(models.dir, { executionProviders: ['cuda', 'cpu'], epFallback: true }), log })

    const status = engine.status()
    expect(status.models).toEqual([{ name: 'detector', version: expect.any(String), ep: 'cpu' }])
    expect(status.providerErrors.map((p) => p.ep)).toEqual(['cuda'])
    expect(status.providerErrors[0]!.error).toContain(INSTALL)
    expect(warnings.some((w) => w.includes('cuda') && w.includes(INSTALL))).toBe(true)

    const [frame] = await sampleFrames()
    expect((await engine.infer({ frameId: 'f', image: copy(frame!.bytes) })).ep).toBe('cpu')
  })

  test('with INFERENCE_EP_FALLBACK off, startup fails and names the install command', async () => {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    const quiet = { info() {}, warn() {}, error() {} }
    const err = await createInferenceEngine({ settings: testSettings(models.dir, { executionProviders: ['cuda', 'cpu'], epFallback: false }), log: quiet }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderStartupError)
    expect((err as Error).message).toContain('INFERENCE_EP_FALLBACK is off')
    expect((err as Error).message).toContain(INSTALL)
    expect((err as Error).message).toContain(models.dir)
  })
})
