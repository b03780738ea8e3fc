/**
 * The watchdog against real worker threads: a wedged worker is replaced and its frame fails with a
 * retryable error (the queue redelivers it), a crashed one likewise, and the pool keeps serving.
 * The hang and the crash are the pool's documented test hooks (PoolOptions.testHooks).
 */
import { afterEach, describe, expect, test } from 'vitest'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { copy, detectorSource, makeModelsDir, sampleFrames, testSettings, type ModelsDir } from '../fixtures/inference.ts'
import { waitFor } from '../helpers/wait.ts'
import { InferenceError, type EngineHooks } from '../../server/inference/types.ts'

const source = detectorSource()
if (!source) console.warn('inference-watchdog: no detector model (models/detector or test/.tmp/models/detector); skipped')

const quiet = { info() {}, warn() {}, error() {} }
type Restart = Parameters<NonNullable<EngineHooks['onWorkerRestart']>>[0]

describe.skipIf(!source)('inference watchdog', () => {
  let models: ModelsDir | undefined
  let engine: PoolInferenceEngine | undefined

  afterEach(async () => {
    await engine?.close()
    await models?.remove()
    engine = undefined
  })

  async function start(restarts: Restart[], over: Parameters<typeof testSettings>[1] = {}) {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    engine = await createInferenceEngine({
      settings: testSettings(models.dir, { workers: 2, watchdogTimeoutMs: 1000, ...over }),
      log: quiet,
      hooks: { onWorkerRestart: (e) => restarts.push(e) },
      testHooks: { hangOnFrameId: 'wedge', crashOnFrameId: 'segv' },
    })
    return engine
  }

  test('replaces a worker stuck past WATCHDOG_TIMEOUT_MS and rejects its frame with a retryable timeout', async () => {
    const restarts: Restart[] = []
    const e = await start(restarts)
    const [frame] = await sampleFrames()

    const stuck = e.infer({ frameId: 'wedge', image: copy(frame!.bytes) }).catch((err: unknown) => err)
    await waitFor(() => e.status().busyWorkers === 1, { what: 'the wedged worker to be busy', timeoutMs: 30_000 })
    // The other worker keeps answering while one is wedged.
    const meanwhile = await e.infer({ frameId: 'ok-1', image: copy(frame!.bytes) })
    expect(meanwhile.model.name).toBe('detector')

    const err = (await stuck) as InferenceError
    expect(err).toBeInstanceOf(InferenceError)
    expect(err.code).toBe('timeout')
    expect(err.permanent).toBe(false)
    expect(err.message).toContain('wedge')
    expect(restarts.map((r) => r.reason)).toEqual(['timeout'])

    await waitFor(() => e.status().workers === 2, { what: 'the replacement worker', timeoutMs: 30_000 })
    const after = await Promise.all([1, 2, 3, 4].map((i) => e.infer({ frameId: `ok-${i + 1}`, image: copy(frame!.bytes) })))
    expect(after).toHaveLength(4)
  })

  test('a worker that crashes fails its frame with a retryable worker_crashed and is replaced', async () => {
    const restarts: Restart[] = []
    const e = await start(restarts)
    const [frame] = await sampleFrames()

    const err = (await e.infer({ frameId: 'segv', image: copy(frame!.bytes) }).catch((x: unknown) => x)) as InferenceError
    expect(err).toBeInstanceOf(InferenceError)
    expect([err.code, err.permanent]).toEqual(['worker_crashed', false])
    expect(restarts.map((r) => r.reason)).toEqual(['crashed'])

    await waitFor(() => e.status().workers === 2, { what: 'the replacement worker', timeoutMs: 30_000 })
    expect((await e.infer({ frameId: 'after', image: copy(frame!.bytes) })).detections).toBeInstanceOf(Array)
  })

  test('restarts beyond the per-minute budget wait before the replacement starts', async () => {
    const restarts: Restart[] = []
    const e = await start(restarts, { workers: 1, watchdogMaxRestartsPerMinute: 1 })
    const [frame] = await sampleFrames()

    await e.infer({ frameId: 'segv', image: copy(frame!.bytes) }).catch(() => undefined)
    await waitFor(() => e.status().workers === 1, { what: 'the first replacement', timeoutMs: 30_000 })
    // The second crash in the same minute is over budget: its replacement is delayed.
    const second = e.infer({ frameId: 'segv', image: copy(frame!.bytes) }).catch((x: unknown) => x)
    expect(((await second) as InferenceError).code).toBe('worker_crashed')
    expect(restarts.map((r) => r.delayMs > 0)).toEqual([false, true])
    // A frame sent while no worker is up waits for the delayed replacement instead of failing.
    const waited = await e.infer({ frameId: 'patient', image: copy(frame!.bytes) })
    expect(waited.model.name).toBe('detector')
  })
})
