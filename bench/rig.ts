/**
 * Everything a benchmark run keeps alive from its first round to its last: the loop workers and
 * the engine (in this process), the load generator, the real server, the no-op server and the two
 * transport servers (each its own process). Stopped together; idle ones cost no CPU, so each
 * measurement has the machine to itself as far as this benchmark is concerned.
 */
import os from 'node:os'
import { loadConfig } from '../server/config/index.ts'
import type { PoolInferenceEngine } from '../server/inference/engine.ts'
import { planThreads, type ThreadPlan } from '../server/inference/plan.ts'
import type { FullFrameDecoder } from '../server/inference/types.ts'
import type { DetectManifest } from '../shared/domain/manifest.ts'
import { inputSize } from '../shared/domain/manifest.ts'
import { frameSet, modelSizeSet, opaqueFrames, type FrameSet, type ModelSizeSet } from './frames.ts'
import { LoopWorkers } from './layout/threads.ts'
import { LoadGenerator } from './load/remote.ts'
import type { BenchOptions } from './options.ts'
import { openBenchEngine, processorPrefetch } from './stages/engine.ts'
import { startLinesight, type LinesightServer } from './stages/linesight.ts'
import { startTransportServer, type TransportServer } from './transport/servers.ts'

export const OPAQUE_FRAME_BYTES = 100 * 1024

export interface Rig {
  plan: ThreadPlan
  batchMaxSize: number
  /** FULL_FRAME_DECODER of every stage (--full-frame-decoder). */
  fullFrameDecoder: FullFrameDecoder
  /** Frames the server's processor keeps in flight; the engine stage keeps as many. */
  prefetch: number
  maxPixels: number
  frames: FrameSet[]
  /** The 640x480 frames at the model's input size (the model-size uplink); loop frame set index `frames.length`. */
  modelSize: ModelSizeSet
  opaque: Uint8Array[]
  loops: LoopWorkers
  engine: PoolInferenceEngine
  gen: LoadGenerator
  real: LinesightServer
  noop: LinesightServer
  uws: TransportServer
  ws: TransportServer
}

async function all<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }, stop: (started: unknown) => Promise<void>): Promise<T> {
  const settled = await Promise.allSettled(starts)
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (!failed.length) return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T
  // stop what did start, then report every start that failed
  await Promise.all(settled.filter((s) => s.status === 'fulfilled').map((s) => stop((s as PromiseFulfilledResult<unknown>).value)))
  throw new AggregateError(failed.map((f): unknown => f.reason), `the benchmark could not start: ${failed.map((f) => String((f.reason as Error)?.message ?? f.reason)).join('; ')}`)
}

async function stopAny(x: unknown): Promise<void> {
  const o = x as { close?: () => Promise<void>; stop?: () => Promise<void> }
  if (o.stop) await o.stop()
  else if (o.close) await o.close()
}

export async function startRig(opts: BenchOptions, manifest: DetectManifest, modelBytes: Uint8Array): Promise<Rig> {
  const config = loadConfig(opts.env)
  const plan = planThreads(os.availableParallelism(), config.workers, config.threadsPerWorker)
  const frames = await Promise.all(opts.sizes.map((s) => frameSet(s)))
  const modelSize = await modelSizeSet(frames[0]!, inputSize(manifest))
  // The two servers first, one after the other: each must be listening within test/helpers'
  // deadline, which a start racing six others on a busy machine can miss.
  const real = await startLinesight({ noop: false, env: opts.env })
  const noop = await startLinesight({ noop: true, env: opts.env }).catch(async (e: unknown) => {
    await real.stop()
    throw e
  })
  const [loops, engine, gen, uws, ws] = await all<[LoopWorkers, PoolInferenceEngine, LoadGenerator, TransportServer, TransportServer]>(
    [
      LoopWorkers.start({
        workers: plan.workers,
        threadsPerWorker: plan.threadsPerWorker,
        manifest,
        modelBytes,
        maxBatch: Math.max(...opts.rawBatches),
        frameSets: [...frames.map((f) => f.jpegs), modelSize.jpegs],
        maxPixels: config.maxPixels,
        fullFrameDecoder: config.fullFrameDecoder,
      }),
      openBenchEngine(config, opts.modelsDir),
      LoadGenerator.start(),
      startTransportServer('uws'),
      startTransportServer('ws'),
    ],
    stopAny,
  ).catch(async (e: unknown) => {
    await Promise.all([real.stop(), noop.stop()])
    throw e
  })
  return {
    plan,
    batchMaxSize: config.batchMaxSize,
    fullFrameDecoder: config.fullFrameDecoder,
    prefetch: processorPrefetch(plan.workers, config.batchMaxSize),
    maxPixels: config.maxPixels,
    frames,
    modelSize,
    opaque: opaqueFrames(OPAQUE_FRAME_BYTES),
    loops,
    engine,
    gen,
    real,
    noop,
    uws,
    ws,
  }
}

export async function stopRig(rig: Rig): Promise<void> {
  const stops = await Promise.allSettled([rig.loops.close(), rig.engine.close(), rig.gen.close(), rig.real.stop(), rig.noop.stop(), rig.uws.close(), rig.ws.close()])
  const failed = stops.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed.length) throw new AggregateError(failed.map((f): unknown => f.reason), 'stopping the benchmark processes failed')
}
