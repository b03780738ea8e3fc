/**
 * The worker pool: worker threads, the model versions each has loaded, and the dispatch of
 * batches to idle workers. One batch per worker at a time (onnxruntime-node's `run` blocks the
 * worker's thread, so a second one could only wait behind it and blur the watchdog's clock).
 *
 * Lifecycle rules:
 *  - a model version is loaded on workers one after the other, so the others keep serving;
 *  - a worker that dies or hangs fails its frames with a retryable error and is replaced at the
 *    pace RestartLimiter allows; the replacement loads every model before it takes frames;
 *  - a worker being removed (setWorkers) takes no new batch, finishes its current one, then exits.
 */
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { BatchQueue, type BatchPolicy } from './batcher.ts'
import type { FrameInput, FrameOk, InferredReply, LoadedReply, ModelKey, ProviderFailure, TestHooks } from './messages.ts'
import { RecentMedian } from './recent-median.ts'
import { InferenceError, type EngineHooks, type EngineLog, type FullFrameDecoder } from './types.ts'
import { RestartLimiter, Watchdog, type RestartPolicy } from './watchdog.ts'
import { WorkerHandle, wireToError, type DeathNotice } from './worker-handle.ts'

/** Whatever stops a frame reaches its caller as an InferenceError; anything unexpected is retryable. */
function asInferenceError(e: unknown): InferenceError {
  if (e instanceof InferenceError) return e
  return new InferenceError('worker_crashed', (e as Error)?.message ?? String(e), false)
}

export interface PoolOptions {
  workers: number
  threadsPerWorker: number
  maxPixels: number
  /** FULL_FRAME_DECODER (WorkerInit.fullFrameDecoder). @default 'libvips' */
  fullFrameDecoder?: FullFrameDecoder | undefined
  eps: readonly string[]
  epFallback: boolean
  batch: BatchPolicy
  watchdogTimeoutMs: number
  restartPolicy?: RestartPolicy
  hooks?: EngineHooks
  log: EngineLog
  /** Background workers (candidate models in shadow): lowest CPU priority, no thumbnails (WorkerInit.background). */
  background?: boolean
  /**
   * Test-only worker behaviour (hang or crash on a given frame id). Accepted only from code that
   * builds the pool itself; no setting or environment variable reaches it.
   */
  testHooks?: TestHooks
}

export interface FrameResult {
  frame: FrameOk
  batchSize: number
  /** The model call for the frame's whole batch, ms. */
  inferMs: number
}

export interface ModelLoad {
  ep: string
  providerErrors: ProviderFailure[]
  maxBatch: number
}

interface Job {
  frame: FrameInput
  resolve: (r: FrameResult) => void
  reject: (e: InferenceError) => void
}

interface Slot {
  key: ModelKey
  name: string
  manifest: DetectManifest
  bytes: Uint8Array
  queue: BatchQueue<Job>
}

export class WorkerPool {
  readonly #workers = new Set<WorkerHandle>()
  readonly #slots = new Map<ModelKey, Slot>()
  readonly #limiter: RestartLimiter
  readonly #watchdog: Watchdog
  readonly #respawns = new Set<ReturnType<typeof setTimeout>>()
  readonly #inferMs = new RecentMedian()
  readonly #idleWaiters: (() => void)[] = []
  #target: number
  #closed = false

  constructor(readonly opts: PoolOptions) {
    this.#target = opts.workers
    this.#limiter = new RestartLimiter(opts.restartPolicy)
    this.#watchdog = new Watchdog(opts.watchdogTimeoutMs, () => this.#workers, (w, ms) => {
      const h = w as WorkerHandle
      h.kill({ code: 'timeout', message: `inference worker ${h.id} was stuck for ${Math.round(ms)} ms on ${h.busyWith} (WATCHDOG_TIMEOUT_MS=${opts.watchdogTimeoutMs}); replaced` })
    })
  }

  /** Starts the workers; resolves once they are ready. */
  async start(): Promise<void> {
    this.#watchdog.start()
    const started = await Promise.allSettled(Array.from({ length: this.#target }, () => this.#spawn()))
    if (!started.some((s) => s.status === 'fulfilled')) {
      throw new InferenceError('worker_crashed', `no inference worker could start: ${(started[0] as PromiseRejectedResult).reason}`, false)
    }
  }

  // --- models ---

  /**
   * Loads a model version on every worker, one worker at a time, and makes it available for
   * dispatch. Rejects (and unloads it everywhere) if a live worker refuses it.
   */
  async addModel(key: ModelKey, name: string, manifest: DetectManifest, bytes: Uint8Array): Promise<ModelLoad> {
    if (this.#slots.has(key)) throw new Error(`model ${key} is already loaded`)
    const slot: Slot = { key, name, manifest, bytes, queue: new BatchQueue<Job>(this.opts.batch, () => this.#pump()) }
    // Registered first, so a worker that starts meanwhile loads it too.
    this.#slots.set(key, slot)
    let first: ModelLoad | undefined
    try {
      for (const h of [...this.#workers]) {
        if (h.state === 'dead' || h.state === 'draining') continue
        try {
          const r = await this.#ensureLoaded(h, slot)
          first ??= { ep: r.ep, providerErrors: r.providerErrors, maxBatch: r.maxBatch }
        } catch (e) {
          // A worker that died meanwhile is replaced, and its replacement loads the model; only a refusal counts.
          if (e instanceof InferenceError && (e.code === 'worker_crashed' || e.code === 'timeout')) continue
          throw e
        }
      }
      if (!first) throw new InferenceError('worker_crashed', `no live inference worker could load ${key}`, false)
      return first
    } catch (e) {
      await this.#unloadEverywhere(slot)
      throw e
    }
  }

  /** Unloads a model version whose frames have all finished (the registry drains it first). */
  async removeModel(key: ModelKey): Promise<void> {
    const slot = this.#slots.get(key)
    if (!slot) return
    for (const job of slot.queue.drain()) job.reject(new InferenceError('unknown_model', `model ${key} was unloaded`, false))
    await this.#unloadEverywhere(slot)
  }

  async #unloadEverywhere(slot: Slot): Promise<void> {
    this.#slots.delete(slot.key)
    await Promise.all(
      [...this.#workers].map(async (h) => {
        const loading = h.loads.get(slot.key)
        if (!loading) return
        h.loads.delete(slot.key)
        h.loaded.delete(slot.key)
        await loading.catch(() => undefined) // its failure was reported to whoever asked for the load
        if (h.alive) await h.request({ type: 'unload', id: 0, key: slot.key }).catch((e: unknown) => this.#lost(h, e))
      }),
    )
  }

  #lost(h: WorkerHandle, e: unknown): void {
    if (h.alive) this.opts.log.error({ worker: h.id, err: e }, 'inference worker did not answer')
  }

  #ensureLoaded(h: WorkerHandle, slot: Slot): Promise<LoadedReply> {
    const existing = h.loads.get(slot.key)
    if (existing) return existing as Promise<LoadedReply>
    h.pendingLoads++
    const p = h.ready
      .then(() =>
        h.request<LoadedReply>({
          type: 'load',
          id: 0,
          key: slot.key,
          manifest: slot.manifest,
          bytes: slot.bytes,
          eps: this.opts.eps,
          epFallback: this.opts.epFallback,
          maxBatch: this.opts.batch.maxSize,
        }),
      )
      .then((r) => {
        if (this.#slots.get(slot.key) === slot) h.loaded.set(slot.key, { maxBatch: r.maxBatch, ep: r.ep })
        return r
      })
      .finally(() => {
        h.pendingLoads--
        this.#pump()
      })
    h.loads.set(slot.key, p)
    void p.catch(() => h.loads.delete(slot.key))
    return p
  }

  // --- frames ---

  submit(key: ModelKey, frame: FrameInput): Promise<FrameResult> {
    if (this.#closed) return Promise.reject(new InferenceError('closed', 'the inference engine is closing', false))
    const slot = this.#slots.get(key)
    if (!slot) return Promise.reject(new InferenceError('unknown_model', `model ${key} is not loaded`, false))
    return new Promise<FrameResult>((resolve, reject) => {
      slot.queue.push({ frame, resolve, reject })
      this.#pump()
    })
  }

  /** Hands due batches to idle workers, the longest-waiting model first. */
  #pump(): void {
    for (const h of this.#workers) {
      if (h.state !== 'ready' || h.busy || h.pendingLoads > 0) continue
      let best: Slot | undefined
      for (const slot of this.#slots.values()) {
        const info = h.loaded.get(slot.key)
        if (!info || !slot.queue.due(info.maxBatch)) continue
        if (!best || slot.queue.oldestAt! < best.queue.oldestAt!) best = slot
      }
      if (best) this.#run(h, best, best.queue.take(h.loaded.get(best.key)!.maxBatch))
    }
    this.#notifyIdle()
  }

  #run(h: WorkerHandle, slot: Slot, jobs: Job[]): void {
    const transfer = new Set<ArrayBuffer>()
    for (const j of jobs) {
      const image = j.frame.image
      if (image.buffer instanceof ArrayBuffer && image.byteOffset === 0 && image.byteLength === image.buffer.byteLength) {
        transfer.add(image.buffer)
      } else {
        // A view into a larger buffer (Node's pool, a socket read, an envelope) cannot be moved
        // without taking its neighbours' bytes along: copy exactly this frame, once.
        j.frame.image = image.slice()
        transfer.add(j.frame.image.buffer as ArrayBuffer)
      }
    }
    h.busySince = performance.now()
    h.busyWith = `a batch of ${jobs.length} of ${slot.key} (${jobs[0]!.frame.frameId}${jobs.length > 1 ? ', ...' : ''})`
    void h.request<InferredReply>({ type: 'infer', id: 0, key: slot.key, frames: jobs.map((j) => j.frame) }, [...transfer])
      .then(
        (reply) => {
          if (reply.batchSize > 0) {
            this.#inferMs.record(reply.inferMs / reply.batchSize)
            this.opts.hooks?.onBatch?.({ model: slot.name, size: reply.batchSize, inferMs: reply.inferMs })
          }
          reply.frames.forEach((f, i) => {
            const job = jobs[i]!
            if (f.ok) job.resolve({ frame: f, batchSize: reply.batchSize, inferMs: reply.inferMs })
            else job.reject(asInferenceError(wireToError(f.error)))
          })
        },
        (e: unknown) => {
          for (const j of jobs) j.reject(asInferenceError(e))
        },
      )
      .finally(() => {
        h.busySince = undefined
        if (h.state === 'draining') void this.#retire(h)
        this.#pump()
      })
  }

  // --- workers ---

  #spawn(): Promise<WorkerHandle> {
    const h = new WorkerHandle(
      {
        threads: this.opts.threadsPerWorker,
        maxPixels: this.opts.maxPixels,
        fullFrameDecoder: this.opts.fullFrameDecoder,
        ...(this.opts.background ? { background: true } : {}),
        ...(this.opts.testHooks ? { testHooks: this.opts.testHooks } : {}),
      },
      (dead, notice) => this.#onDeath(dead, notice),
    )
    this.#workers.add(h)
    const started = (async () => {
      await h.ready
      if (h.priority && 'error' in h.priority) this.opts.log.warn({ worker: h.id }, `background inference worker at normal priority: ${h.priority.error}`)
      else if (h.priority?.note) this.opts.log.warn({ worker: h.id }, `background inference worker: ${h.priority.note}`)
      if (h.state === 'draining') void this.#retire(h) // removed by setWorkers while it started
      if (h.state !== 'starting') return h
      // Loop: a model may be added while this worker loads the others.
      for (let missing = this.#missing(h); missing.length; missing = this.#missing(h)) {
        for (const slot of missing) await this.#ensureLoaded(h, slot)
      }
      if (h.state === 'starting') h.state = 'ready'
      else if (h.state === 'draining') void this.#retire(h)
      this.#pump()
      return h
    })()
    void started.catch((e: unknown) => {
      this.opts.log.error({ worker: h.id, err: e }, 'inference worker failed to start')
      h.kill({ code: 'worker_crashed', message: `inference worker ${h.id} failed to start: ${(e as Error).message}` })
    })
    return started
  }

  #missing(h: WorkerHandle): Slot[] {
    return [...this.#slots.values()].filter((s) => !h.loads.has(s.key))
  }

  #onDeath(h: WorkerHandle, notice: DeathNotice): void {
    this.#workers.delete(h)
    if (h.expectedExit) return
    this.opts.log.warn({ worker: h.id, reason: notice.code }, notice.message)
    if (this.#closed) {
      // Closing replaces nobody: with no worker left, queued frames can only fail (retryably).
      this.#failQueuedIfNoWorker()
      this.#pump()
      return
    }
    const live = [...this.#workers].filter((w) => w.state === 'starting' || w.state === 'ready').length
    if (live < this.#target) {
      const delay = this.#limiter.next()
      this.opts.hooks?.onWorkerRestart?.({ reason: notice.code === 'timeout' ? 'timeout' : 'crashed', workerId: h.id, delayMs: delay, message: notice.message })
      if (delay > 0) this.opts.log.warn({ delayMs: delay }, 'inference workers keep failing; the replacement waits')
      const t = setTimeout(() => {
        this.#respawns.delete(t)
        if (!this.#closed) void this.#spawn().catch(() => undefined) // reported by #spawn
      }, delay)
      this.#respawns.add(t)
    }
    this.#pump()
  }

  async #retire(h: WorkerHandle): Promise<void> {
    h.state = h.state === 'dead' ? 'dead' : 'draining'
    h.expectedExit = true
    if (h.busy || !h.alive) return h.exited
    await h.request({ type: 'close', id: 0 }).catch((e: unknown) => this.#lost(h, e))
    await h.exited
  }

  /** Grows or shrinks the pool; a removed worker finishes its batch first. */
  async setWorkers(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be an integer >= 1, got ${n}`)
    if (this.#closed) throw new InferenceError('closed', 'the inference engine is closing', false)
    this.#target = n
    const live = [...this.#workers].filter((w) => w.state === 'starting' || w.state === 'ready')
    if (live.length < n) {
      await Promise.all(Array.from({ length: n - live.length }, () => this.#spawn()))
    } else if (live.length > n) {
      // Idle and still-starting workers go first: nothing of theirs is in flight.
      const order = (w: WorkerHandle) => (w.state === 'starting' ? 0 : w.busy ? 2 : 1)
      const leaving = live.sort((a, b) => order(a) - order(b)).slice(0, live.length - n)
      await Promise.all(leaving.map((h) => (h.state === 'starting' ? ((h.state = 'draining'), h.exited) : this.#retire(h))))
    }
  }

  // --- status and shutdown ---

  status(): { workers: number; busyWorkers: number; inferMs: number; queued: number } {
    const live = [...this.#workers].filter((w) => w.state === 'ready' || w.state === 'draining')
    let queued = 0
    for (const s of this.#slots.values()) queued += s.queue.size
    return { workers: live.length, busyWorkers: live.filter((w) => w.busy).length, inferMs: this.#inferMs.median(), queued }
  }

  /** Each live worker's thread id, nice value and policy where it lowered its priority (background pools). */
  threads(): { worker: number; tid?: number; nice?: number; policy?: 'idle' | 'normal' }[] {
    return [...this.#workers]
      .filter((w) => w.alive)
      .map((w) => (w.priority && 'tid' in w.priority ? { worker: w.id, tid: w.priority.tid, nice: w.priority.nice, policy: w.priority.policy } : { worker: w.id }))
  }

  #isIdle(): boolean {
    for (const s of this.#slots.values()) if (s.queue.size) return false
    for (const w of this.#workers) if (w.busy) return false
    return true
  }

  #notifyIdle(): void {
    if (!this.#idleWaiters.length || !this.#isIdle()) return
    for (const f of this.#idleWaiters.splice(0)) f()
  }

  #failQueuedIfNoWorker(): void {
    if ([...this.#workers].some((w) => w.state === 'ready')) return
    for (const s of this.#slots.values()) for (const j of s.queue.drain()) j.reject(new InferenceError('closed', 'the inference engine closed with no worker left', false))
  }

  /** Finishes every queued frame, then stops the workers. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const t of this.#respawns) clearTimeout(t)
    this.#respawns.clear()
    this.#failQueuedIfNoWorker()
    if (!this.#isIdle()) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
    this.#watchdog.stop()
    await Promise.all([...this.#workers].map((h) => this.#retire(h)))
  }
}
