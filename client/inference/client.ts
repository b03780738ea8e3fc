/**
 * Main-thread handle on the inference worker. Bitmaps are transferred (Comlink.transfer), so the
 * pixels move to the worker without a copy and the main thread can no longer touch them.
 */
import * as Comlink from 'comlink'
import type { EncodedFrame, EncodeOptions, InferenceWorkerApi, WorkerReply } from './api.ts'

export class InferenceClient {
  readonly #worker: Worker
  readonly #api: Comlink.Remote<InferenceWorkerApi>
  #failure: string | null = null

  constructor() {
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'linesight-inference' })
    // A worker that fails to load never answers; remember why, so calls can say it.
    this.#worker.addEventListener('error', (e) => {
      this.#failure = e.message || 'the inference worker failed to start'
    })
    this.#api = Comlink.wrap<InferenceWorkerApi>(this.#worker)
  }

  async encode(bitmap: ImageBitmap, options: EncodeOptions): Promise<WorkerReply<EncodedFrame>> {
    if (this.#failure) {
      bitmap.close()
      return { ok: false, error: { code: 'worker_failed', message: this.#failure } }
    }
    try {
      return await this.#api.encode(Comlink.transfer(bitmap, [bitmap]), options)
    } catch (e) {
      return { ok: false, error: { code: 'worker_failed', message: (e as Error).message } }
    }
  }

  terminate(): void {
    this.#api[Comlink.releaseProxy]()
    this.#worker.terminate()
  }
}
