/**
 * The candidate engine against real worker threads and the real kernel: a candidate runs on a
 * worker of its own, never on a verdict worker, at nice 19 and SCHED_IDLE (read back from /proc,
 * not from what the worker says), with every thread it starts the same; it loads only what it is asked
 * for and unloads what no line wants; a crashed candidate worker is replaced apart from the
 * verdict workers and loads its model again.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import { afterEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../../server/config/index.ts'
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import { InferenceError } from '../../server/inference/types.ts'
import { createLogger } from '../../server/log.ts'
import { createMetrics } from '../../server/metrics/metrics.ts'
import { openCandidateEngine, openEngine } from '../../server/wiring/engine.ts'
import { copy, detectorSource, makeModelsDir, sampleFrames, testSettings, type ModelsDir } from '../fixtures/inference.ts'
import { metricValue } from '../helpers/browser.ts'
import { waitFor } from '../helpers/wait.ts'

const source = detectorSource()
if (!source) console.warn('candidate-engine: no detector model; skipped')
const linux = process.platform === 'linux'
const quiet = { info() {}, warn() {}, error() {} }

/** Field `n` of /proc/<pid>/task/<tid>/stat, as the kernel has it. */
function statField(tid: number, n: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8')
  // fields after the command name (which may hold spaces) start at field 3
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3])
}
const niceOf = (tid: number) => statField(tid, 19)
/** Field 41, the scheduling policy: 0 SCHED_OTHER, 5 SCHED_IDLE. */
const policyOf = (tid: number) => statField(tid, 41)
const SCHED_IDLE = 5
/** SCHED_IDLE is set through util-linux's chrt; where it is missing the worker keeps nice 19 only. */
const hasChrt = (() => {
  try {
    execFileSync('chrt', ['--help'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

function threadsAt(nice: number): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map(Number).filter((tid) => {
    try {
      return niceOf(tid) === nice
    } catch {
      return false // the thread ended meanwhile
    }
  })
}

describe.skipIf(!source || !linux)('candidate engine', () => {
  let models: ModelsDir | undefined
  const engines: PoolInferenceEngine[] = []

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()))
    await models?.remove()
  })

  async function modelsWithCandidate(): Promise<ModelsDir> {
    models = await makeModelsDir(source!)
    await models.addDetector('detector')
    await models.addDetector('candidate', (m) => {
      m.version = '0.2.0'
    })
    return models
  }

  test('runs a candidate on a worker thread of its own at nice 19 and SCHED_IDLE, and loads only the model asked for', async () => {
    const dir = (await modelsWithCandidate()).dir
    const config = loadConfig({ LINESIGHT_MODELS_DIR: dir, MODELS_WATCH: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1', LOG_LEVEL: 'silent' })
    const log = createLogger('silent')
    const metrics = createMetrics()
    const verdicts = await openEngine(config, log, metrics, dir)
    engines.push(verdicts)
    const candidates = (await openCandidateEngine(config, log, metrics, dir))!
    engines.push(candidates)
    expect(candidates).not.toBe(verdicts)
    expect(verdicts.models().map((m) => m.name).sort()).toEqual(['candidate', 'detector'])
    expect(candidates.models()).toEqual([])

    const frames = await sampleFrames()
    const current = await Promise.all(frames.map((f, i) => verdicts.infer({ frameId: `v${i}`, image: copy(f.bytes) })))
    const shadow = await Promise.all(frames.map((f, i) => candidates.infer({ frameId: `c${i}`, image: copy(f.bytes), model: 'candidate' })))
    expect(shadow.map((o) => o.model)).toEqual(frames.map(() => ({ name: 'candidate', version: '0.2.0' })))
    expect(candidates.models().map((m) => m.name)).toEqual(['candidate'])
    // the same weights: the same boxes, but no thumbnail (nobody keeps a candidate's picture)
    expect(shadow.map((o) => o.detections)).toEqual(current.map((o) => o.detections))
    expect(current.some((o) => o.thumbnail)).toBe(true)
    expect(shadow.some((o) => o.thumbnail)).toBe(false)

    // the verdict workers never ran the candidate: their batches (of up to BATCH_MAX_SIZE frames) are the only ones counted
    const text = await metrics.registry.metrics()
    expect(metricValue(text, 'linesight_inference_batch_size_sum', { model: 'detector' })).toBe(frames.length)
    expect(metricValue(text, 'linesight_inference_batch_size_count', { model: 'candidate' })).toBe(0)

    // the kernel's view: the candidate worker's thread at nice 19; the process and the verdict workers not
    const [worker, ...more] = candidates.threads()
    expect(more).toEqual([])
    expect(worker!.tid).toBeGreaterThan(0)
    expect(niceOf(worker!.tid!)).toBe(19)
    if (hasChrt) expect([worker!.policy, policyOf(worker!.tid!)]).toEqual(['idle', SCHED_IDLE])
    expect(threadsAt(19)).toContain(worker!.tid)
    expect(os.getPriority()).toBe(0)
    expect(verdicts.threads().every((t) => t.tid === undefined)).toBe(true)
  })

  test('threads onnxruntime starts from a candidate worker run at its low priority too', async () => {
    const dir = (await modelsWithCandidate()).dir
    const before = new Set(readdirSync(`/proc/${process.pid}/task`).map(Number))
    const e = await createInferenceEngine({ settings: testSettings(dir, { threadsPerWorker: 2 }), log: quiet, models: 'on-demand', background: true })
    engines.push(e)
    const [frame] = await sampleFrames()
    await e.infer({ frameId: 'c', image: copy(frame!.bytes), model: 'candidate' })
    // the worker's thread and the intra-op thread its session started (at least)
    const low = threadsAt(19)
    expect(low.length).toBeGreaterThanOrEqual(2)
    expect(low.every((tid) => !before.has(tid))).toBe(true)
    if (hasChrt) expect(low.map(policyOf)).toEqual(low.map(() => SCHED_IDLE))
  })

  test('unloads the candidates no line wants any more, and loads one again when asked', async () => {
    const dir = (await modelsWithCandidate()).dir
    const e = await createInferenceEngine({ settings: testSettings(dir), log: quiet, models: 'on-demand', background: true })
    engines.push(e)
    const [frame] = await sampleFrames()
    await e.infer({ frameId: 'a', image: copy(frame!.bytes), model: 'candidate' })
    await e.infer({ frameId: 'b', image: copy(frame!.bytes), model: 'detector' })
    await e.retain(new Set(['detector']))
    expect(e.models().map((m) => m.name)).toEqual(['detector'])
    await waitFor(() => e.versions().every((v) => v.name !== 'candidate'), { what: 'the candidate drained and released', timeoutMs: 30_000 })
    expect((await e.infer({ frameId: 'c', image: copy(frame!.bytes), model: 'candidate' })).model.name).toBe('candidate')
    const missing = await e.infer({ frameId: 'd', image: copy(frame!.bytes), model: 'nope' }).catch((err: unknown) => err)
    expect((missing as Error).name).toBe('ModelLoadError')
  })

  test('a crashed candidate worker fails its frame, is replaced at the same low priority and serves its model again', async () => {
    const dir = (await modelsWithCandidate()).dir
    const restarts: string[] = []
    const e = await createInferenceEngine({
      settings: testSettings(dir),
      log: quiet,
      models: 'on-demand',
      background: true,
      hooks: { onWorkerRestart: (r) => restarts.push(r.reason) },
      restartPolicy: { baseDelayMs: 0 },
      testHooks: { crashOnFrameId: 'segv' },
    })
    engines.push(e)
    const [frame] = await sampleFrames()
    await e.infer({ frameId: 'a', image: copy(frame!.bytes), model: 'candidate' })
    const first = e.threads()[0]!.tid!
    const err = (await e.infer({ frameId: 'segv', image: copy(frame!.bytes), model: 'candidate' }).catch((x: unknown) => x)) as InferenceError
    expect(err).toBeInstanceOf(InferenceError)
    expect(err.code).toBe('worker_crashed')
    expect(restarts).toEqual(['crashed'])
    await waitFor(() => e.status().workers === 1, { what: 'the replacement candidate worker', timeoutMs: 30_000 })
    expect((await e.infer({ frameId: 'b', image: copy(frame!.bytes), model: 'candidate' })).model.name).toBe('candidate')
    const [replacement] = e.threads()
    expect(replacement!.tid).not.toBe(first)
    expect(niceOf(replacement!.tid!)).toBe(19)
    if (hasChrt) expect(policyOf(replacement!.tid!)).toBe(SCHED_IDLE)
  })
})
