/**
 * Main-thread handle on the inference worker. Bitmaps are transferred (Comlink.transfer), so the
 * pixels move to the worker without a copy and the main thread can no longer touch them.
 */
import * as Comlink from 'comlink'
import type { Admitted, EncodedFrame, EncodeOptions, Finished, FinishOptions, InferenceWorkerApi, InitOptions, InitReport, WorkerReply } from './api.ts'

export class InferenceClient {
  readonly #worker: Worker
  readonly #api: Comlink.Remote<InferenceWorkerApi>
  #failure: string | null = null
  #stopped = false
  /** Settles every pending call when the worker is terminated: comlink would leave them hanging. */
  #terminated: () => void = () => {}
  readonly #gone = new Promise<WorkerReply<never>>((resolve) => {
    this.#terminated = () => resolve({ ok: false, error: { code: 'worker_terminated', message: 'the inference worker was stopped' } })
  })

  constructor() {
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'linesight-inference' })
    // A worker that fails to load never answers; remember why, so calls can say it.
    this.#worker.addEventListener('error', (e) => {
      this.#failure = e.message || 'the inference worker failed to start'
    })
    this.#api = Comlink.wrap<InferenceWorkerApi>(this.#worker)
  }

  async #call<T>(call: () => Promise<WorkerReply<T>>): Promise<WorkerReply<T>> {
    if (this.#failure) return { ok: false, error: { code: 'worker_failed', message: this.#failure } }
    try {
      return await Promise.race([call(), this.#gone])
    } catch (e) {
      return { ok: false, error: { code: 'worker_failed', message: (e as Error).message } }
    }
  }

  init(options: InitOptions): Promise<WorkerReply<InitReport>> {
    return this.#call(() => this.#api.init(options))
  }

  /** Takes ownership of the bitmap: it is transferred to the worker, or closed. */
  admit(frameId: string, bitmap: ImageBitmap, options: { prefilter: boolean }): Promise<WorkerReply<Admitted>> {
    if (this.#failure) bitmap.close()
    return this.#call(() => this.#api.admit(frameId, Comlink.transfer(bitmap, [bitmap]), options))
  }

  finish(frameId: string, options: FinishOptions): Promise<WorkerReply<Finished>> {
    return this.#call(() => this.#api.finish(frameId, options))
  }

  readCode(frameId: string): Promise<WorkerReply<string | null>> {
    return this.#call(() => this.#api.readCode(frameId))
  }

  /** The camera original of a frame sent at the model's size, encoded at full size (evidence on demand). */
  evidence(frameId: string, options: Omit<EncodeOptions, 'fit'>): Promise<WorkerReply<EncodedFrame>> {
    return this.#call(() => this.#api.evidence(frameId, options))
  }

  release(frameId: string): void {
    if (this.#failure) return
    // fire and forget: a frame the worker no longer has is simply not there to drop
    this.#api.release(frameId).catch((e: unknown) => (this.#failure ??= (e as Error).message))
  }

  /** Idempotent: a probe is stopped by its abort signal and again when its init settles. */
  terminate(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#failure ??= 'the inference worker was stopped'
    this.#terminated()
    this.#api[Comlink.releaseProxy]()
    this.#worker.terminate()
  }
}
