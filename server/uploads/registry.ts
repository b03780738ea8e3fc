/**
 * The uploads this process knows, with the limits that keep a client (or many) from filling the
 * disk: size per upload, bytes reserved by all unfinished uploads, unfinished uploads per client,
 * and expiry of the abandoned ones.
 */
import { HttpError } from '../errors.ts'
import { newUploadId, type UploadFiles, type UploadInfo, type UploadState } from './upload-files.ts'

export interface UploadLimits {
  /** UPLOAD_MAX_BYTES */
  maxBytes: number
  /** UPLOAD_MAX_PENDING_BYTES */
  maxPendingBytes: number
  /** UPLOAD_MAX_PENDING_PER_CLIENT */
  maxPendingPerClient: number
  /** UPLOAD_EXPIRES_MS */
  expiresMs: number
  /** How long a finished upload's summary is kept (its results' retention), ms; 0 keeps it. */
  keepFinishedMs: number
}

export interface Upload {
  info: UploadInfo
  /** A PATCH is writing; a second one waits its turn (423). */
  writing: boolean
  /** Terminated or expired during a PATCH: its files go when that PATCH ends. */
  removed: boolean
}

export type NewUpload = Pick<UploadInfo, 'length' | 'metadata' | 'filename' | 'line' | 'station' | 'model' | 'owner' | 'createdBy'>

export interface RegistryLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** States whose data file is on disk and counts against UPLOAD_MAX_PENDING_BYTES. */
const HOLDS_DATA: readonly UploadState[] = ['receiving', 'received', 'unpacking', 'feeding']
/** States whose work was cut short by a restart and goes on at startup. */
const RESUMABLE: readonly UploadState[] = ['received', 'unpacking', 'feeding']

export class UploadRegistry {
  readonly #uploads = new Map<string, Upload>()

  constructor(
    readonly files: UploadFiles,
    readonly limits: UploadLimits,
    private readonly log: RegistryLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads what a previous run left; returns the complete uploads whose job must go on. */
  async init(): Promise<Upload[]> {
    await this.files.init()
    const { infos, problems } = await this.files.loadAll()
    for (const p of problems) this.log.warn({ dir: this.files.dir }, `uploads folder: ${p}`)
    const resume: Upload[] = []
    for (const info of infos) {
      const up: Upload = { info, writing: false, removed: false }
      if (HOLDS_DATA.includes(info.state)) {
        const size = await this.files.dataSize(info.id)
        if (size === null) {
          this.log.warn({ upload: info.id }, 'upload data missing; the upload is forgotten')
          await this.files.remove(info.id)
          continue
        }
        // bytes written after the last saved offset (a crash mid-PATCH) were never acknowledged
        if (info.state === 'receiving' && size !== info.offset) {
          if (size > info.offset) await this.files.truncateData(info.id, info.offset)
          else info.offset = size
          await this.files.saveInfo(info)
        }
      }
      this.#uploads.set(info.id, up)
      if (RESUMABLE.includes(info.state)) resume.push(up)
    }
    return resume
  }

  pendingBytes(): number {
    let n = 0
    for (const u of this.#uploads.values()) if (HOLDS_DATA.includes(u.info.state)) n += u.info.length
    return n
  }

  pendingFor(owner: string): number {
    let n = 0
    for (const u of this.#uploads.values()) if (u.info.owner === owner && u.info.state === 'receiving') n++
    return n
  }

  async create(n: NewUpload): Promise<Upload> {
    const { maxBytes, maxPendingBytes, maxPendingPerClient } = this.limits
    if (n.length === 0) throw new HttpError(400, 'empty', 'Upload-Length is 0: there is nothing to inspect')
    if (n.length > maxBytes) throw new HttpError(413, 'too_large', `Upload-Length ${n.length} exceeds Tus-Max-Size ${maxBytes}`)
    if (this.pendingFor(n.owner) >= maxPendingPerClient) {
      throw new HttpError(429, 'too_many_uploads', `this client has ${maxPendingPerClient} unfinished uploads already; finish or terminate one first`)
    }
    const pending = this.pendingBytes()
    if (pending + n.length > maxPendingBytes) {
      throw new HttpError(507, 'uploads_full', `the uploads in progress reserve ${pending} of ${maxPendingBytes} bytes; ${n.length} more do not fit now`, { headers: { 'retry-after': '60' } })
    }
    const now = this.now()
    const info: UploadInfo = { ...n, id: newUploadId(), offset: 0, createdAt: now, updatedAt: now, state: 'receiving' }
    if (info.filename === undefined) delete info.filename
    if (info.model === undefined) delete info.model
    await this.files.createData(info.id)
    await this.files.saveInfo(info)
    const up: Upload = { info, writing: false, removed: false }
    this.#uploads.set(info.id, up)
    return up
  }

  get(id: string): Upload | undefined {
    return this.#uploads.get(id)
  }

  list(): Upload[] {
    return [...this.#uploads.values()]
  }

  expiresAt(up: Upload): number {
    return up.info.updatedAt + this.limits.expiresMs
  }

  /** Data arrived: expiry counts from now. */
  touch(up: Upload): void {
    up.info.updatedAt = this.now()
  }

  isExpired(up: Upload): boolean {
    return up.info.state === 'receiving' && this.expiresAt(up) <= this.now()
  }

  async save(up: Upload): Promise<void> {
    if (!up.removed) await this.files.saveInfo(up.info)
  }

  /** Moves to a new state and saves; leaving the data states frees the reservation and the file. */
  async setState(up: Upload, state: UploadState, extra: Partial<Pick<UploadInfo, 'archive' | 'error'>> = {}): Promise<void> {
    Object.assign(up.info, extra, { state })
    if (!HOLDS_DATA.includes(state)) {
      up.info.finishedAt = this.now()
      await this.files.removeData(up.info.id)
    }
    await this.save(up)
  }

  /** Forgets an upload (termination, expiry); its files go now, or when its PATCH ends. */
  async remove(up: Upload): Promise<void> {
    up.removed = true
    this.#uploads.delete(up.info.id)
    if (!up.writing) await this.files.remove(up.info.id)
  }

  /** Called by the PATCH that held the upload, once it stopped writing. */
  async released(up: Upload): Promise<void> {
    up.writing = false
    if (up.removed) await this.files.remove(up.info.id)
  }

  /** Removes expired unfinished uploads and summaries past their keep time; returns how many. */
  async sweep(): Promise<number> {
    const now = this.now()
    let n = 0
    for (const up of this.list()) {
      const finished = up.info.finishedAt !== undefined && !HOLDS_DATA.includes(up.info.state)
      const stale = finished && this.limits.keepFinishedMs > 0 && up.info.finishedAt! + this.limits.keepFinishedMs <= now
      if (this.isExpired(up) || stale) {
        await this.remove(up)
        n++
      }
    }
    return n
  }
}
