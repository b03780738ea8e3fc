/**
 * Uploads and the inspection jobs they become, as one service for the HTTP routes
 * (server/api/uploads.ts, jobs.ts). Built once by `createUploads(core)` in every role: a worker
 * only counts job frames; a gateway also takes uploads, unpacks them and feeds the queue.
 */
import { resolve } from 'node:path'
import { isId } from '../../shared/domain/ids.ts'
import type { BodyStream } from '../api/types.ts'
import { canUseLine, canUseStation, describePrincipal, type Principal } from '../auth/principal.ts'
import type { Authenticator } from '../auth/authenticate.ts'
import type { Config } from '../config/index.ts'
import type { FrameIngest } from '../ingest/ingest.ts'
import type { Logger } from '../log.ts'
import type { ModelCatalog } from '../models/catalog.ts'
import type { FrameQueue } from '../queue/types.ts'
import type { Recorder } from '../results/recorder.ts'
import type { Store } from '../storage/types.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import { JobCounter } from './job-counter.ts'
import { JobRunner } from './job-runner.ts'
import { receive, type Received } from './receive.ts'
import { UploadRegistry, type Upload } from './registry.ts'
import { labelOf, parseMetadata, type Checksum } from './tus-headers.ts'
import { UploadFiles, UploadInfoSchema, isUploadId, type UploadInfo } from './upload-files.ts'

export type { Upload } from './registry.ts'
export type { UploadInfo } from './upload-files.ts'

const DAY_MS = 24 * 3600 * 1000

/** What the uploads use of the process: not the whole `Core`. */
export interface UploadsDeps {
  config: Config
  log: Logger
  store: Pick<Store, 'jobs' | 'uploads' | 'kind'>
  recorder: Recorder
  queue: FrameQueue
  ingest: FrameIngest
  models: Pick<ModelCatalog, 'get'>
  /** Read when an upload is created, not at construction: a gateway sets it after the uploads exist. */
  auth?: Pick<Authenticator, 'admitLine'>
}

export class Uploads {
  #sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly core: Pick<UploadsDeps, 'log' | 'models' | 'store' | 'auth'>,
    private readonly counter: JobCounter,
    /** Absent in a worker-only process. */
    private readonly registry?: UploadRegistry,
    private readonly runner?: JobRunner,
  ) {}

  #registry(): UploadRegistry {
    if (!this.registry) throw new HttpError(409, 'no_uploads', 'this process takes no uploads (LINESIGHT_ROLE=worker)')
    return this.registry
  }

  /** tus creation: the metadata names the line (checked against the caller's token). */
  async create(p: Principal, remoteAddress: string, length: number, metadataHeader: string | undefined): Promise<Upload> {
    const meta = parseMetadata(metadataHeader)
    const line = meta.line
    if (line === undefined) throw badRequest('Upload-Metadata must name the line ("line <base64 line id>")', 'missing_line')
    if (!isId(line)) throw badRequest('Upload-Metadata "line" must be a line id (1-64 of A-Z a-z 0-9 . _ : -)', 'bad_line')
    if (!canUseLine(p, line)) throw new HttpError(403, 'forbidden', `this token may not send frames for line ${line}`)
    const station = meta.station ?? p.station ?? 'upload'
    if (!isId(station)) throw badRequest('Upload-Metadata "station" must be an id', 'bad_station')
    if (!canUseStation(p, station)) throw new HttpError(403, 'forbidden', `this token sends as station ${p.station} only`)
    await this.core.auth?.admitLine(p, line)
    const model = meta.model
    if (model !== undefined && this.core.models.get(model)?.manifest.task !== 'detect') {
      throw new HttpError(422, 'unknown_model', `model ${JSON.stringify(model.slice(0, 64))} is not a loaded detector`)
    }
    const filename = labelOf(meta.filename)
    return this.#registry().create({
      length,
      metadata: metadataHeader ?? '',
      line,
      station,
      owner: p.tokenId ? `token:${p.tokenId}` : `addr:${remoteAddress}`,
      createdBy: describePrincipal(p),
      ...(filename ? { filename } : {}),
      ...(model ? { model } : {}),
    })
  }

  /**
   * The upload behind a URL id, if this caller may touch it: its line, and its creator's token
   * (or any anonymous caller for an anonymous upload, on a network without tokens). Someone
   * else's upload answers 404, as if it did not exist.
   */
  async find(p: Principal, id: string): Promise<Upload> {
    if (!isUploadId(id)) throw notFound(`no upload ${JSON.stringify(String(id).slice(0, 64))}`)
    const up = await this.#registry().get(id)
    if (!up || !this.#mayUse(p, up.info)) throw notFound(`no upload ${id}`)
    if (this.#registry().isExpired(up)) {
      // the sweep removes it; until then it is gone for clients all the same
      throw new HttpError(410, 'expired', `upload ${id} expired at ${new Date(this.#registry().expiresAt(up)).toISOString()} without data`)
    }
    return up
  }

  #mayUse(p: Principal, info: UploadInfo): boolean {
    if (p.role === 'admin') return true
    if (!canUseLine(p, info.line)) return false
    return info.owner.startsWith('token:') ? info.owner === `token:${p.tokenId}` : !p.tokenId
  }

  expiresAt(up: Upload): number {
    return this.#registry().expiresAt(up)
  }

  async receive(up: Upload, offset: number, body: BodyStream, checksum: Checksum | undefined): Promise<Received> {
    const registry = this.#registry()
    const r = await receive(registry, up, offset, body, checksum)
    // Complete: this gateway unpacks it, unless another one took it first (its sweep claims work
    // nobody holds). Either way it runs once, under its lease.
    if (r.complete && (await registry.tryAcquire(up))) {
      if (up.info.state === 'receiving') await registry.setState(up, 'received')
      if (this.runner && up.info.state === 'received') this.runner.enqueue(up)
      else await registry.release(up)
    }
    return r
  }

  /**
   * tus termination. A complete upload is a job by now and cannot be taken back: 405 (not 409,
   * which tus clients retry as if the upload were busy).
   */
  async terminate(up: Upload): Promise<void> {
    if (up.info.state !== 'receiving') {
      throw new HttpError(405, 'upload_complete', `upload ${up.info.id} is complete and became job ${up.info.id}; it cannot be terminated`, { headers: { allow: 'HEAD, OPTIONS' } })
    }
    await this.#registry().remove(up)
  }

  /** What the uploads know about a job (its upload), for whoever may read its line. */
  async describe(p: Principal, id: string): Promise<UploadInfo | undefined> {
    const row = isUploadId(id) ? await this.core.store.uploads.get(id) : undefined
    const info = row && UploadInfoSchema.safeParse(JSON.parse(row.info))
    return info?.success && canUseLine(p, info.data.line) ? info.data : undefined
  }

  startSweeping(intervalMs: number): void {
    const registry = this.#registry()
    this.#sweeper = setInterval(() => {
      registry
        .sweep()
        .then(async (n) => {
          if (n) this.core.log.info({ removed: n }, 'expired uploads removed')
          // jobs a dead gateway left half done, once its lease ran out
          const claimed = await registry.claimAbandoned()
          if (claimed.length) this.core.log.info({ uploads: claimed.map((u) => u.info.id) }, 'going on with upload jobs another process left unfinished')
          for (const up of claimed) this.runner?.enqueue(up)
        })
        .catch((err: unknown) => this.core.log.error({ err }, 'sweeping expired uploads failed'))
    }, intervalMs)
    // the sweep is housekeeping: it must not keep a finished process alive
    this.#sweeper.unref()
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    await this.runner?.close()
    this.registry?.close()
    this.counter.stop()
  }
}

export async function createUploads(core: UploadsDeps): Promise<Uploads> {
  const { config, log } = core
  const counter = new JobCounter(core.store.jobs, log)
  counter.start(core.recorder, core.queue)
  if (config.role === 'worker') return new Uploads(core, counter)

  const registry = new UploadRegistry(
    new UploadFiles(config.uploadDir ?? resolve(config.dataDir, 'uploads')),
    core.store.uploads,
    {
      maxBytes: config.uploadMaxBytes,
      maxPendingBytes: config.uploadMaxPendingBytes,
      maxPendingPerClient: config.uploadMaxPendingPerClient,
      expiresMs: config.uploadExpiresMs,
      keepFinishedMs: config.retentionDays * DAY_MS,
      lockMs: config.uploadLockMs,
    },
    log,
  )
  // SQLite is opened by one process only: leases a previous run left are void
  const resume = await registry.init({ exclusive: core.store.kind === 'sqlite' })
  const runner = new JobRunner({
    registry,
    jobs: core.store.jobs,
    ingest: core.ingest,
    queue: core.queue,
    counter,
    limits: { maxEntries: config.uploadArchiveMaxEntries, maxBytes: config.uploadArchiveMaxBytes, maxFrameBytes: config.maxFrameBytes, maxPixels: config.maxPixels },
    window: config.uploadBatchWindow,
    log,
  })
  const uploads = new Uploads(core, counter, registry, runner)
  if (resume.length) log.info({ uploads: resume.map((u) => u.info.id) }, 'going on with upload jobs a previous run left unfinished')
  for (const up of resume) runner.enqueue(up)
  uploads.startSweeping(config.uploadSweepIntervalMs)
  return uploads
}
