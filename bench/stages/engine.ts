/**
 * Stage 2, the engine: JPEG frames through `createInferenceEngine` (decode + letterbox + model +
 * decode/NMS in the worker pool), in this process, with as many frames in flight as the server's
 * processor keeps (its queue prefetch), so the engine sees the load it sees in production.
 */
import { createInferenceEngine, type PoolInferenceEngine } from '../../server/inference/engine.ts'
import type { Config } from '../../server/config/index.ts'
import { ownCpuMs } from '../cpu.ts'
import type { FrameSet } from '../frames.ts'
import { latencyOf, type Latency } from '../stats.ts'
import { windowFromNow, type Window } from '../window.ts'

export interface EngineRun {
  fps: number
  frames: number
  cpuMsPerFrame: number
  /** engine.infer() call to outcome, as the processor sees it (includes waiting for a free worker). */
  latency: Latency
  /** p50 of the engine's own per-stage timings, ms. */
  stagesP50: { decode: number; infer: number; postprocess: number }
  meanBatch: number
  inflight: number
}

export function openBenchEngine(config: Config, modelsDir: string): Promise<PoolInferenceEngine> {
  const quiet = { info() {}, warn: (o: object, m?: string) => console.warn(m, o), error: (o: object, m?: string) => console.error(m, o) }
  return createInferenceEngine({ settings: { ...config, modelsDir, modelsWatch: false }, log: quiet })
}

/** What the server's processor keeps in flight (server/app.ts: its queue prefetch). */
export function processorPrefetch(workers: number, batchMaxSize: number): number {
  return Math.max(2, workers * batchMaxSize * 2)
}

export async function runEngine(engine: PoolInferenceEngine, frames: Pick<FrameSet, 'jpegs'>, inflight: number, w: Window): Promise<EngineRun> {
  const { startAt, endAt } = windowFromNow(w)
  const latencies: number[] = []
  const decode: number[] = []
  const infer: number[] = []
  const post: number[] = []
  let batchSum = 0
  let next = 0
  let cpuStart = 0
  let cpuEnd = 0
  const t1 = setTimeout(() => (cpuStart = ownCpuMs()), startAt - Date.now())
  const t2 = setTimeout(() => (cpuEnd = ownCpuMs()), endAt - Date.now())
  const caller = async () => {
    while (Date.now() < endAt) {
      const k = next++
      // the engine takes the buffer (transfers it to a worker): each call gets its own copy
      const image = new Uint8Array(frames.jpegs[k % frames.jpegs.length]!)
      const t0 = performance.now()
      const o = await engine.infer({ frameId: `e${k}`, image })
      const ms = performance.now() - t0
      const now = Date.now()
      if (now < startAt || now > endAt) continue
      latencies.push(ms)
      decode.push(o.timings.decode)
      infer.push(o.timings.infer)
      post.push(o.timings.postprocess)
      batchSum += o.batchSize
    }
  }
  try {
    await Promise.all(Array.from({ length: inflight }, caller))
  } finally {
    clearTimeout(t1)
    clearTimeout(t2)
  }
  if (cpuEnd === 0) cpuEnd = ownCpuMs()
  const n = latencies.length
  return {
    fps: n / w.seconds,
    frames: n,
    cpuMsPerFrame: (cpuEnd - cpuStart) / n,
    latency: latencyOf(latencies),
    stagesP50: { decode: latencyOf(decode).p50, infer: latencyOf(infer).p50, postprocess: latencyOf(post).p50 },
    meanBatch: batchSum / n,
    inflight,
  }
}
