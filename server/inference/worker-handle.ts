/**
 * The pool's side of one worker thread: request/reply matching by id, what the worker has
 * loaded, and when its current batch started (what the watchdog reads). When the thread dies,
 * every request still waiting on it is rejected with a retryable error: its frames go back to the
 * queue, never silently lost.
 */
import type { Worker } from 'node:worker_threads'
import type { FromWorker, ModelKey, ReadyMessage, ToWorker, WireError, WorkerInit } from './messages.ts'
import { spawnTsWorker } from './spawn.ts'
import { InferenceError, ModelLoadError, type InferenceErrorCode, type ModelLoadErrorCode } from './types.ts'

type Reply = Exclude<FromWorker, { type: 'ready' } | { type: 'error' }>

export type WorkerState = 'starting' | 'ready' | 'draining' | 'dead'

export interface DeathNotice {
  code: 'worker_crashed' | 'timeout'
  message: string
}

let nextWorkerId = 1

const LOAD_CODES = new Set<string>(['bad_manifest', 'missing_file', 'sha_mismatch', 'version_conflict', 'manifest_mismatch', 'not_a_detector', 'provider_unavailable', 'load_failed'])

export function wireToError(e: WireError): InferenceError | ModelLoadError {
  if (LOAD_CODES.has(e.code)) return new ModelLoadError(e.code as ModelLoadErrorCode, e.message)
  return new InferenceError(e.code as InferenceErrorCode, e.message, e.permanent)
}

export class WorkerHandle {
  readonly id = nextWorkerId++
  readonly worker: Worker
  state: WorkerState = 'starting'
  /** Model versions loaded here and the largest batch each takes. */
  readonly loaded = new Map<ModelKey, { maxBatch: number; ep: string }>()
  /** When the request now running was sent (performance.now()); undefined while idle. */
  busySince: number | undefined
  /** What the running request is, for the watchdog's message. */
  busyWith = ''
  /** Model loads sent and not yet answered; the worker answers in order, so no batch goes meanwhile. */
  pendingLoads = 0
  /** Load promises by model key, so a model is never loaded twice on one worker. */
  readonly loads = new Map<ModelKey, Promise<unknown>>()
  /** Set before a planned exit (shrinking, closing): the pool does not replace this worker. */
  expectedExit = false
  /** A background worker's thread id and nice value (or why it has none), from its ready message. */
  priority: ReadyMessage['priority']
  readonly ready: Promise<void>
  readonly exited: Promise<void>
  #nextId = 1
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: InferenceError | ModelLoadError) => void }>()
  #death: DeathNotice | undefined
  readonly #onDeath: (h: WorkerHandle, notice: DeathNotice) => void

  constructor(init: WorkerInit, onDeath: (h: WorkerHandle, notice: DeathNotice) => void) {
    this.#onDeath = onDeath
    this.worker = spawnTsWorker(new URL('./worker.ts', import.meta.url), { workerData: init, name: `inference-${this.id}` })
    this.ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: FromWorker) => {
        if (m.type !== 'ready') return
        this.worker.off('message', onReady)
        this.priority = m.priority
        resolve()
      }
      this.worker.on('message', onReady)
      this.worker.once('exit', () => reject(new InferenceError('worker_crashed', this.#death?.message ?? `inference worker ${this.id} exited while starting`, false)))
    })
    // Nobody may be waiting for `ready` when a worker dies later; the rejection is also reported through onDeath.
    void this.ready.catch(() => {})
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.on('message', (m: FromWorker) => this.#onMessage(m))
    this.worker.on('error', (e) => {
      this.#death ??= { code: 'worker_crashed', message: `inference worker ${this.id} failed: ${e.message}` }
    })
    this.worker.on('exit', (code) => {
      this.#die(this.#death ?? { code: 'worker_crashed', message: `inference worker ${this.id} exited with code ${code}` })
    })
  }

  get busy(): boolean {
    return this.busySince !== undefined
  }

  get alive(): boolean {
    return this.state !== 'dead'
  }

  /** Sends a request; the returned promise settles with its reply or with the worker's death. */
  request<R extends Reply>(msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<R> {
    if (this.state === 'dead') return Promise.reject(new InferenceError('worker_crashed', this.#death?.message ?? `inference worker ${this.id} is gone`, false))
    const id = this.#nextId++
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (r: Reply) => void, reject })
      try {
        this.worker.postMessage({ ...msg, id }, transfer)
      } catch (e) {
        this.#pending.delete(id)
        reject(new InferenceError('worker_crashed', `could not send to inference worker ${this.id}: ${(e as Error).message}`, false))
      }
    })
  }

  /**
   * Ends a wedged or unwanted thread now. `terminate()` interrupts JavaScript (and Atomics.wait);
   * a thread stuck inside a native call only stops when that call returns, so nobody waits for it:
   * its requests fail at once and a replacement can start beside it.
   */
  kill(notice: DeathNotice): void {
    if (this.state === 'dead') return
    this.#death = notice
    this.#die(notice)
    void this.worker.terminate().catch((e: unknown) => {
      // Nothing left to fail: the requests were rejected above. Surface it rather than drop it.
      process.emitWarning(`inference worker ${this.id} did not terminate cleanly: ${(e as Error).message}`)
    })
  }

  /** Runs once per worker, whether it exited by itself or was killed. */
  #die(notice: DeathNotice): void {
    if (this.state === 'dead') return
    this.state = 'dead'
    this.busySince = undefined
    for (const p of this.#pending.values()) p.reject(new InferenceError(notice.code, notice.message, false))
    this.#pending.clear()
    this.#onDeath(this, notice)
  }

  #onMessage(m: FromWorker): void {
    if (m.type === 'ready') return
    const p = this.#pending.get(m.id)
    if (!p) return
    this.#pending.delete(m.id)
    if (m.type === 'error') p.reject(wireToError(m.error))
    else p.resolve(m)
  }
}
