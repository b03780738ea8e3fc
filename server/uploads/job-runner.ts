/**
 * Turns a complete upload into an inspection job: inventory (refuse bombs and junk), create the
 * job with its total, then publish the images to the batch queue a few at a time. Live frames
 * always go first (the queue serves `live` before `batch`); the window here only keeps an
 * archive from sitting in memory or in the broker whole.
 *
 * Everything is idempotent by design, so a restart simply runs an interrupted upload again:
 * frame ids are `<job>-<entry index>`, the store records a frame once, and only a new record
 * counts towards the job.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { FrameRefused, type FrameIngest } from '../ingest/ingest.ts'
import type { FrameQueue } from '../queue/types.ts'
import type { JobStore } from '../storage/jobs.ts'
import { StorageError } from '../storage/errors.ts'
import type { JobCounter } from './job-counter.ts'
import type { Upload, UploadRegistry } from './registry.ts'
import { ArchiveRefused, frames, inventory, UploadRefused, type Inventory, type UnpackLimits } from './unpack.ts'

export interface JobRunnerDeps {
  registry: UploadRegistry
  jobs: JobStore
  ingest: FrameIngest
  queue: FrameQueue
  counter: JobCounter
  limits: UnpackLimits
  /** UPLOAD_BATCH_WINDOW */
  window: number
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

/** Uploads unpacked at once; more wait their turn (each is disk- and CPU-bound). */
const CONCURRENT_JOBS = 2
const MAX_WAIT_MS = 500

export class JobRunner {
  readonly #waiting: Upload[] = []
  readonly #running = new Set<Promise<void>>()
  readonly #closing = new AbortController()

  constructor(private readonly deps: JobRunnerDeps) {}

  enqueue(up: Upload): void {
    if (this.#closing.signal.aborted) return
    this.#waiting.push(up)
    this.#next()
  }

  /** Stops between frames; interrupted jobs go on at the next start. */
  async close(): Promise<void> {
    this.#closing.abort()
    this.#waiting.length = 0
    await Promise.all([...this.#running])
  }

  #next(): void {
    while (this.#running.size < CONCURRENT_JOBS && this.#waiting.length) {
      const up = this.#waiting.shift()!
      const run: Promise<void> = this.#run(up).finally(() => {
        this.#running.delete(run)
        this.#next()
      })
      this.#running.add(run)
    }
  }

  async #run(up: Upload): Promise<void> {
    const { registry, log } = this.deps
    const { id } = up.info
    try {
      await registry.setState(up, 'unpacking')
      const inv = await inventory(registry.files.dataPath(id), up.info.filename ?? 'upload', this.deps.limits)
      await registry.setState(up, 'feeding', { archive: { kind: inv.kind, entries: inv.entries, images: inv.images.length, skipped: inv.skipped } })
      await this.#ensureJob(up, inv.images.length)
      if (inv.images.length === 0) {
        await this.#refuse(up, 'no_images', `no acceptable image among ${inv.entries} entries (skipped: ${JSON.stringify(inv.skipped)})`)
        return
      }
      await this.#feed(up, inv)
      if (this.#closing.signal.aborted) return
      await registry.setState(up, 'done')
      log.info({ upload: id, images: inv.images.length, skipped: inv.skipped }, 'upload job queued whole')
    } catch (err) {
      // shutting down cut this run short (the queue closed under it): the state on disk says
      // where it was, and the next start runs it again
      if (this.#closing.signal.aborted && !(err instanceof ArchiveRefused || err instanceof UploadRefused)) return
      if (err instanceof ArchiveRefused || err instanceof UploadRefused) {
        log.warn({ upload: id, code: err.code }, `upload refused: ${err.message}`)
        await this.#refuse(up, err.code, err.message)
        return
      }
      log.error({ err, upload: id }, 'upload job failed')
      await this.#refuse(up, 'internal', `the upload could not be processed: ${(err as Error)?.message ?? String(err)}`).catch((e: unknown) =>
        log.error({ err: e, upload: id }, 'recording the failure of an upload job failed'),
      )
    }
  }

  async #ensureJob(up: Upload, total: number): Promise<void> {
    const { id, line, createdBy } = up.info
    try {
      await this.deps.jobs.create({ id, line, total, createdBy })
    } catch (err) {
      // a restart runs the upload again: the job it created the first time is the one
      if (!(err instanceof StorageError && err.code === 'conflict')) throw err
    }
  }

  async #refuse(up: Upload, code: string, message: string): Promise<void> {
    await this.#ensureJob(up, 0)
    await this.deps.jobs.fail(up.info.id, `${code}: ${message}`)
    await this.deps.registry.setState(up, 'failed', { error: { code, message } })
  }

  async #feed(up: Upload, inv: Inventory): Promise<void> {
    const { info } = up
    for await (const { image, bytes } of frames(this.deps.registry.files.dataPath(info.id), inv, this.deps.limits)) {
      if (this.#closing.signal.aborted || up.removed) return
      await this.#room()
      const now = Date.now()
      const job = {
        frameId: `${info.id}-${image.index}`,
        line: info.line,
        station: info.station,
        // one ms apart from the upload's start, in archive order, so lists keep that order
        capturedAt: info.createdAt + image.index,
        receivedAt: now,
        mime: image.mime,
        width: image.width,
        height: image.height,
        source: 'upload' as const,
        jobId: info.id,
        image: bytes,
        ...(info.model ? { model: info.model } : {}),
      }
      await this.#submit(job)
    }
  }

  /** Waits while UPLOAD_BATCH_WINDOW frames are waiting in the batch queue. */
  async #room(): Promise<void> {
    let wait = 10
    while (!this.#closing.signal.aborted) {
      const depth = await this.deps.queue.depth()
      if (depth.batch < this.deps.window) return
      await this.#progressOr(wait)
      wait = Math.min(wait * 2, MAX_WAIT_MS)
    }
  }

  async #submit(job: Parameters<FrameIngest['submit']>[0]): Promise<void> {
    let wait = 50
    for (;;) {
      try {
        await this.deps.ingest.submit(job, 'batch')
        return
      } catch (err) {
        // a full or reconnecting queue is a reason to wait, not to fail the job
        if (!(err instanceof FrameRefused) || this.#closing.signal.aborted) throw err
        await this.#progressOr(wait)
        wait = Math.min(wait * 2, MAX_WAIT_MS * 4)
      }
    }
  }

  /** Resolves on the next local job progress, after `ms`, or at shutdown, whichever is first. */
  async #progressOr(ms: number): Promise<void> {
    const ac = new AbortController()
    const stop = this.deps.counter.onProgress(() => ac.abort())
    const onClose = () => ac.abort()
    this.#closing.signal.addEventListener('abort', onClose, { once: true })
    try {
      await delay(ms, undefined, { signal: ac.signal }).catch((err: unknown) => {
        // being woken early is the point; anything else is not
        if ((err as Error).name !== 'AbortError') throw err
      })
    } finally {
      stop()
      this.#closing.signal.removeEventListener('abort', onClose)
    }
  }
}
