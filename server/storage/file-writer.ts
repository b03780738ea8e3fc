/**
 * Image files written on their own thread. Each `fs.promises` call costs the event loop a promise,
 * a libuv request and a callback, and a stored image took five of them (mkdir, open, write, close,
 * rename): 15 to 20 % of the main thread's busy time end to end (bench/report.md, profiles). Here
 * the main thread posts one message per frame and gets one back; the thread writes synchronously,
 * where a blocked call blocks nothing else. The bytes are copied into the message (tens of KB, a
 * few microseconds): the caller may still hold them, so they are not transferred away.
 *
 * Plain CommonJS evaluated in the thread, so it needs no TypeScript loader (see inference/spawn.ts).
 */
import { Worker } from 'node:worker_threads'

const THREAD = `
const { parentPort } = require('node:worker_threads')
const { mkdirSync, writeFileSync, renameSync, unlinkSync, linkSync } = require('node:fs')
const made = new Set()
function linked(linkTo, tmp, path) {
  try {
    linkSync(linkTo, path)
    return true
  } catch (e) {
    // an older file has that name: link aside, then rename over it
    if (e && e.code === 'EEXIST') {
      linkSync(linkTo, tmp)
      renameSync(tmp, path)
      return true
    }
    // a file system without hard links: the bytes are written, as any file's
    return false
  }
}
function one({ dir, tmp, path, bytes, linkTo }) {
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true })
    made.add(dir)
  }
  if (linkTo !== undefined && linked(linkTo, tmp, path)) return
  writeFileSync(tmp, bytes)
  renameSync(tmp, path)
}
parentPort.on('message', ({ id, files }) => {
  let f
  try {
    for (f of files) one(f)
    parentPort.postMessage({ id })
  } catch (e) {
    try { unlinkSync(f.tmp) } catch {}
    parentPort.postMessage({ id, error: { message: String((e && e.message) || e), code: e && e.code } })
  }
})
`

/**
 * One file: its bytes, written to `tmp` in `dir` and renamed to `path` (readers never see half a
 * file). With `linkTo`, the same bytes as a file written before it in the same call: a hard link
 * to that file (stored once, as a model-size frame that is its own thumbnail), or the bytes
 * written where the file system has no hard links. The same array twice in one message is
 * cloned once.
 */
export interface FileToWrite {
  dir: string
  tmp: string
  path: string
  bytes: Uint8Array
  linkTo?: string
}

interface Reply {
  id: number
  error?: { message: string; code?: string }
}

export class FileWriterThread {
  #worker: Worker | undefined
  #next = 1
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()

  /** Writes the files in order, in one message (a frame's images: one round trip, not one per file); stops at the first that fails. */
  write(files: FileToWrite[]): Promise<void> {
    const worker = this.#start()
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      worker.postMessage({ id, files })
    })
  }

  async close(): Promise<void> {
    const w = this.#worker
    this.#worker = undefined
    if (w) await w.terminate()
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(THREAD, { eval: true })
    // idle, it must not keep the process alive; the store's close() ends it
    worker.unref()
    worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id)
      this.#waiting.delete(r.id)
      if (!w) return
      if (r.error) w.reject(Object.assign(new Error(r.error.message), { code: r.error.code }))
      else w.resolve()
    })
    worker.on('error', (err) => this.#failAll(err))
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined
      this.#failAll(new Error('the file writer thread exited'))
    })
    this.#worker = worker
    return worker
  }

  #failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err)
    this.#waiting.clear()
  }
}
