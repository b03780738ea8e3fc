/**
 * A worker thread run from CommonJS source (so it needs no TypeScript loader, see
 * inference/spawn.ts), asked by message and answering by message: each request carries an id, and
 * its reply `{ id, ...}` or `{ id, error: { message, code? } }` settles that request's promise.
 * Started at the first request and unref'd (idle, it keeps no process alive). When it dies every
 * request waiting on it fails; the next one starts it again, though not sooner than
 * `restartAfterMs` after the death (a thread that dies at start, a file it cannot open, is not
 * started again for every request). Used for the images database (storage/image-db.ts) and the
 * static files' compression (api/compressed.ts).
 */
import { Worker, type TransferListItem } from 'node:worker_threads'

export interface ThreadReply {
  id: number
  error?: { message: string; code?: string }
}

export interface EvalThreadOptions {
  workerData?: unknown
  /** After the thread died, requests fail at once for this long. @default 0 */
  restartAfterMs?: number
  /** What the thread is, for the error when it exits: "the images database thread". */
  name: string
}

export class EvalThread<R extends ThreadReply> {
  #worker: Worker | undefined
  #died: { at: number; err: Error } | undefined
  #next = 1
  #started = 0
  readonly #waiting = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>()

  constructor(
    private readonly source: string,
    private readonly opts: EvalThreadOptions,
  ) {}

  /** Threads started so far: one, unless it died (then at most one per `restartAfterMs`). */
  get started(): number {
    return this.#started
  }

  request(message: object, transfer?: readonly TransferListItem[]): Promise<R> {
    if (!this.#worker && this.#died && Date.now() - this.#died.at < (this.opts.restartAfterMs ?? 0)) return Promise.reject(this.#died.err)
    const worker = this.#start()
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      worker.postMessage({ ...message, id }, transfer)
    })
  }

  /** Sends `last` (when given) and waits for its reply, then ends the thread. */
  async close(last?: object): Promise<void> {
    const w = this.#worker
    if (!w) return
    try {
      if (last) await this.request(last)
    } catch {
      // the thread is gone already: what it had done is done
    } finally {
      this.#worker = undefined
      await w.terminate()
    }
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    this.#started++
    const worker = new Worker(this.source, { eval: true, workerData: this.opts.workerData })
    worker.unref()
    worker.on('message', (r: R) => {
      const w = this.#waiting.get(r.id)
      this.#waiting.delete(r.id)
      if (!w) return
      if (r.error) w.reject(Object.assign(new Error(r.error.message), { code: r.error.code }))
      else w.resolve(r)
    })
    let thrown: Error | undefined
    worker.on('error', (err) => {
      thrown = err
      this.#failAll(err)
    })
    worker.on('exit', () => {
      if (this.#worker !== worker) return // closed
      this.#worker = undefined
      this.#died = { at: Date.now(), err: thrown ?? new Error(`${this.opts.name} exited`) }
      this.#failAll(this.#died.err)
    })
    this.#worker = worker
    return worker
  }

  #failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err)
    this.#waiting.clear()
  }
}
