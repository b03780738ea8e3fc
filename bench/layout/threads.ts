/**
 * The loop workers of one measurement layout: `workers` threads x `threads` intra-op threads
 * each, as the engine would run them. Tasks run on all of them at once, in one window, and the
 * rate is what all of them completed together.
 */
import type { Worker } from 'node:worker_threads'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { spawnTsWorker } from '../../server/inference/spawn.ts'
import type { FullFrameDecoder } from '../../server/inference/types.ts'
import { ownCpuMs } from '../cpu.ts'
import { latencyOf, type Latency } from '../stats.ts'
import { windowFromNow, type Window } from '../window.ts'
import type { FromLoop, LoopInit, LoopMode, ToLoop } from './messages.ts'

export interface Rate {
  fps: number
  frames: number
  seconds: number
  /** CPU of the whole process (every thread) over the window, per frame. */
  cpuMsPerFrame: number
  /** ms per operation: one model call (of `batch` frames), or one frame. */
  latency: Latency
}

type Done = Extract<FromLoop, { type: 'done' }>

class LoopThread {
  #waiting: { resolve: (m: FromLoop) => void; reject: (e: Error) => void } | undefined
  #failure: Error | undefined

  constructor(readonly worker: Worker) {
    worker.on('message', (m: FromLoop) => {
      if (m.type === 'failed') return this.#fail(new Error(`loop worker failed: ${m.message}`))
      const w = this.#waiting
      this.#waiting = undefined
      w?.resolve(m)
    })
    worker.on('error', (e) => this.#fail(e))
    worker.on('exit', (code) => this.#fail(new Error(`loop worker exited with ${code}`)))
  }

  #fail(e: Error): void {
    this.#failure ??= e
    const w = this.#waiting
    this.#waiting = undefined
    w?.reject(e)
  }

  /** Sends `m` (or nothing) and waits for the next reply. */
  next(m?: ToLoop): Promise<FromLoop> {
    if (this.#failure) return Promise.reject(this.#failure)
    const p = new Promise<FromLoop>((resolve, reject) => (this.#waiting = { resolve, reject }))
    if (m) this.worker.postMessage(m)
    return p
  }
}

export class LoopWorkers {
  private constructor(
    private readonly threads: LoopThread[],
    readonly layout: { workers: number; threadsPerWorker: number },
  ) {}

  static async start(opts: { workers: number; threadsPerWorker: number; manifest: DetectManifest; modelBytes: Uint8Array; maxBatch: number; frameSets: Uint8Array[][]; maxPixels: number; fullFrameDecoder: FullFrameDecoder }): Promise<LoopWorkers> {
    const threads = Array.from({ length: opts.workers }, () => {
      const init: LoopInit = { manifest: opts.manifest, modelBytes: opts.modelBytes, threads: opts.threadsPerWorker, maxBatch: opts.maxBatch, frameSets: opts.frameSets, maxPixels: opts.maxPixels, fullFrameDecoder: opts.fullFrameDecoder }
      return new LoopThread(spawnTsWorker(new URL('./loop-worker.ts', import.meta.url), { workerData: init }))
    })
    const pool = new LoopWorkers(threads, { workers: opts.workers, threadsPerWorker: opts.threadsPerWorker })
    try {
      await Promise.all(threads.map((t) => t.next()))
    } catch (e) {
      await pool.close()
      throw e
    }
    return pool
  }

  async run(task: { mode: LoopMode; batch: number; frameSet: number }, w: Window): Promise<Rate> {
    await Promise.all(this.threads.map((t) => t.next({ type: 'task', ...task })))
    const { startAt, endAt } = windowFromNow(w)
    let cpuStart = 0
    let cpuEnd = 0
    // this thread sits idle meanwhile, so its timers fire on time
    const t1 = setTimeout(() => (cpuStart = ownCpuMs()), startAt - Date.now())
    const t2 = setTimeout(() => (cpuEnd = ownCpuMs()), endAt - Date.now())
    try {
      const done = (await Promise.all(this.threads.map((t) => t.next({ type: 'go', startAt, endAt })))) as Done[]
      if (cpuEnd === 0) cpuEnd = ownCpuMs()
      const frames = done.reduce((n, d) => n + d.frames, 0)
      const all = new Float64Array(done.reduce((n, d) => n + d.latencies.length, 0))
      let o = 0
      for (const d of done) {
        all.set(d.latencies, o)
        o += d.latencies.length
      }
      return { fps: frames / w.seconds, frames, seconds: w.seconds, cpuMsPerFrame: (cpuEnd - cpuStart) / frames, latency: latencyOf(all) }
    } finally {
      clearTimeout(t1)
      clearTimeout(t2)
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.threads.map(async (t) => {
        const exited = new Promise((resolve) => t.worker.once('exit', resolve))
        t.worker.postMessage({ type: 'close' } satisfies ToLoop)
        // a worker stuck in a native call would never read `close`
        const timer = setTimeout(() => void t.worker.terminate(), 5000)
        await exited
        clearTimeout(timer)
      }),
    )
  }
}
