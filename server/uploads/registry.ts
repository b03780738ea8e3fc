/**
 * The uploads, as every gateway sees them: their state in the shared store (server/storage/
 * upload-state.ts), their bytes in UPLOAD_DIR (a volume every gateway mounts), and a lease per
 * upload so that only one process writes to or unpacks it at a time. An upload created through
 * one gateway can be resumed and finished through another; one whose gateway died is taken over
 * once its lease runs out. The limits keep a client (or many) from filling the disk: size per
 * upload, bytes reserved by all unfinished uploads, unfinished uploads per client, and expiry.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { HttpError } from '../errors.ts'
import type { UploadStateRow, UploadStateStore } from '../storage/upload-state.ts'
import { newUploadId, UploadInfoSchema, type UploadFiles, type UploadInfo, type UploadState } from './upload-files.ts'

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
  /** UPLOAD_LOCK_MS: how long a lease lasts without being renewed. */
  lockMs: number
}

export interface Upload {
  info: UploadInfo
  /** Terminated or expired while this process held it: its files go when it is released. */
  removed: boolean
  /** Its lease ran out and another process took it: this one must not touch it any more. */
  lost?: boolean
}

export type NewUpload = Pick<UploadInfo, 'length' | 'metadata' | 'filename' | 'line' | 'station' | 'model' | 'owner' | 'createdBy'>

export interface RegistryLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** States whose data file is on the volume and counts against UPLOAD_MAX_PENDING_BYTES. */
const HOLDS_DATA: readonly UploadState[] = ['receiving', 'received', 'unpacking', 'feeding']
/** States whose work was cut short (a restart, a dead gateway) and goes on once its lease is free. */
const RESUMABLE: readonly UploadState[] = ['received', 'unpacking', 'feeding']

const toRow = (info: UploadInfo): UploadStateRow => {
  const row: UploadStateRow = { id: info.id, state: info.state, owner: info.owner, length: info.length, updatedAt: info.updatedAt, info: JSON.stringify(info) }
  if (info.finishedAt !== undefined) row.finishedAt = info.finishedAt
  return row
}

export class UploadRegistry {
  /** Uploads this process holds the lease of, renewed by a timer until released. */
  readonly #held = new Map<string, Upload>()
  readonly #holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  #renewer: ReturnType<typeof setInterval> | undefined

  constructor(
    readonly files: UploadFiles,
    private readonly state: UploadStateStore,
    readonly limits: UploadLimits,
    private readonly log: RegistryLog,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Prepares the volume and returns the complete uploads whose job must go on. `exclusive`: no
   * other process can share this store (SQLite), so leases a previous run left are void at once.
   */
  async init(opts: { exclusive: boolean }): Promise<Upload[]> {
    await this.files.init()
    if (opts.exclusive) await this.state.unlockAll()
    this.#renewer = setInterval(() => void this.#renewAll(), Math.max(50, Math.floor(this.limits.lockMs / 3)))
    // renewal is housekeeping for work in hand: it must not keep a finished process alive
    this.#renewer.unref()
    return this.claimAbandoned()
  }

  close(): void {
    clearInterval(this.#renewer)
  }

  async #renewAll(): Promise<void> {
    for (const up of this.#held.values()) {
      try {
        // the offset reached so far: a gateway that dies mid-PATCH costs the client less to resend
        if (await this.confirm(up)) await this.save(up)
      } catch (err) {
        this.log.warn({ upload: up.info.id, err }, 'renewing an upload lease failed; retrying')
      }
    }
  }

  /** Resumable uploads nobody holds (their process stopped or died), each now held by this one. */
  async claimAbandoned(): Promise<Upload[]> {
    const claimed: Upload[] = []
    for (const id of await this.state.abandoned(RESUMABLE, this.now())) {
      const up = await this.get(id)
      if (up && (await this.tryAcquire(up))) claimed.push(up)
    }
    return claimed
  }

  pendingBytes(): Promise<number> {
    return this.state.reservedBytes(HOLDS_DATA)
  }

  pendingFor(owner: string): Promise<number> {
    return this.state.countFor(owner, 'receiving')
  }

  /**
   * The limits are checked, then the upload is written: two gateways creating at the same moment
   * can both pass (each limit may be passed by one upload per gateway).
   */
  async create(n: NewUpload): Promise<Upload> {
    const { maxBytes, maxPendingBytes, maxPendingPerClient } = this.limits
    if (n.length === 0) throw new HttpError(400, 'empty', 'Upload-Length is 0: there is nothing to inspect')
    if (n.length > maxBytes) throw new HttpError(413, 'too_large', `Upload-Length ${n.length} exceeds Tus-Max-Size ${maxBytes}`)
    if ((await this.pendingFor(n.owner)) >= maxPendingPerClient) {
      throw new HttpError(429, 'too_many_uploads', `this client has ${maxPendingPerClient} unfinished uploads already; finish or terminate one first`)
    }
    const pending = await this.pendingBytes()
    if (pending + n.length > maxPendingBytes) {
      throw new HttpError(507, 'uploads_full', `the uploads in progress reserve ${pending} of ${maxPendingBytes} bytes; ${n.length} more do not fit now`, { headers: { 'retry-after': '60' } })
    }
    const now = this.now()
    const info: UploadInfo = { ...n, id: newUploadId(), offset: 0, createdAt: now, updatedAt: now, state: 'receiving' }
    if (info.filename === undefined) delete info.filename
    if (info.model === undefined) delete info.model
    await this.files.createData(info.id)
    await this.state.insert(toRow(info))
    return { info, removed: false }
  }

  /** The upload as the store has it now, or undefined (never created, terminated, swept). */
  async get(id: string): Promise<Upload | undefined> {
    const held = this.#held.get(id)
    if (held) return held
    const row = await this.state.get(id)
    if (!row) return undefined
    const parsed = UploadInfoSchema.safeParse(JSON.parse(row.info))
    if (!parsed.success) {
      this.log.warn({ upload: id }, 'unreadable upload state; treated as absent')
      return undefined
    }
    return { info: parsed.data, removed: false }
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

  /**
   * Takes the upload's lease, then reloads it (another gateway may have moved it on) and makes
   * its file agree with its offset: bytes a dead writer wrote past the saved offset were never
   * acknowledged and go. False when another process holds it, or it is gone.
   */
  async tryAcquire(up: Upload): Promise<boolean> {
    const { id } = up.info
    if (this.#held.has(id)) return false
    if (!(await this.state.lock(id, this.#holder, this.now(), this.now() + this.limits.lockMs))) return false
    const fresh = await this.get(id)
    if (!fresh) return false
    up.info = fresh.info
    up.removed = false
    up.lost = false
    this.#held.set(id, up)
    if (HOLDS_DATA.includes(up.info.state)) {
      const size = await this.files.dataSize(id)
      if (size === null) {
        this.log.warn({ upload: id }, 'upload data missing from UPLOAD_DIR; the upload is forgotten')
        await this.remove(up)
        await this.release(up)
        return false
      }
      if (up.info.state === 'receiving' && size !== up.info.offset) {
        if (size > up.info.offset) await this.files.truncateData(id, up.info.offset)
        else up.info.offset = size
        await this.save(up)
      }
    }
    return true
  }

  /** As tryAcquire, for a PATCH: someone else writing is 423, which tus clients retry. */
  async acquire(up: Upload): Promise<void> {
    if (await this.tryAcquire(up)) return
    if (!(await this.state.get(up.info.id))) throw new HttpError(404, 'not_found', `no upload ${up.info.id}`)
    throw new HttpError(423, 'locked', 'another PATCH is writing to this upload; retry when it ended')
  }

  /**
   * Renews the lease and says whether this process still holds the upload. False when it was
   * removed (marked so) or its lease ran out and another process took it (marked lost: a stalled
   * writer that wakes up must not cut back or overwrite what the new holder wrote).
   */
  async confirm(up: Upload): Promise<boolean> {
    if (up.removed || up.lost) return false
    if (await this.state.renew(up.info.id, this.#holder, this.now() + this.limits.lockMs)) return true
    if (await this.state.get(up.info.id)) up.lost = true
    else up.removed = true
    return false
  }

  /** Gives the lease back; an upload removed meanwhile loses its files now. */
  async release(up: Upload): Promise<void> {
    this.#held.delete(up.info.id)
    if (up.removed) await this.files.remove(up.info.id)
    else if (!up.lost) await this.state.unlock(up.info.id, this.#holder)
  }

  async save(up: Upload): Promise<void> {
    if (up.removed || up.lost) return
    if (!(await this.state.update(toRow(up.info)))) up.removed = true
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

  /**
   * Forgets an upload (termination, expiry). Its files go now, or, when a process holds it, when
   * that process releases it (this one at once; another at its next lease renewal or save).
   */
  async remove(up: Upload): Promise<void> {
    const held = this.#held.get(up.info.id)
    if (held) held.removed = true
    up.removed = true
    const { leased } = await this.state.delete(up.info.id, this.now())
    if (!held && !leased) await this.files.remove(up.info.id)
  }

  /** Removes expired unfinished uploads and summaries past their keep time; returns how many. */
  async sweep(): Promise<number> {
    const now = this.now()
    let n = 0
    for (const row of await this.state.list()) {
      const up = await this.get(row.id)
      if (!up) continue
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
