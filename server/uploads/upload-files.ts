/**
 * The bytes of uploads: `<UPLOAD_DIR>/<id>.bin`, on a volume every gateway mounts; what we know
 * about them is in the shared store (server/storage/upload-state.ts). The id is the only thing in
 * a file name, and it is ours: 32 random hex digits, checked again here before any path is
 * built, so nothing a client sends can reach the file system as a path.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rm, stat, truncate, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { Id } from '../../shared/domain/ids.ts'

export const UPLOAD_ID = /^[0-9a-f]{32}$/
export const newUploadId = () => randomBytes(16).toString('hex')
export const isUploadId = (v: unknown): v is string => typeof v === 'string' && UPLOAD_ID.test(v)

/**
 * receiving: bytes arrive (PATCH) · received: complete, waiting to be unpacked · unpacking: being
 * checked · feeding: frames going to the queue · done: every frame queued, file removed ·
 * failed: refused as a whole (see `error`), file removed.
 */
export const UPLOAD_STATES = ['receiving', 'received', 'unpacking', 'feeding', 'done', 'failed'] as const
export type UploadState = (typeof UPLOAD_STATES)[number]

const Counts = z.record(z.string(), z.number().int().min(0))

export const UploadInfoSchema = z.object({
  id: z.string().regex(UPLOAD_ID),
  length: z.number().int().min(0),
  offset: z.number().int().min(0),
  /** The Upload-Metadata header as received, echoed by HEAD. */
  metadata: z.string().max(8192),
  filename: z.string().max(200).optional(),
  line: Id,
  station: Id,
  model: z.string().max(64).optional(),
  /** Whose pending upload this is, for the per-client limit: `token:<id>` or `addr:<address>`. */
  owner: z.string().max(300),
  createdBy: z.string().max(300),
  createdAt: z.number(),
  /** Last byte received (expiry counts from here). */
  updatedAt: z.number(),
  state: z.enum(UPLOAD_STATES),
  archive: z
    .object({
      kind: z.enum(['image', 'zip', 'tar', 'tar.gz']),
      entries: z.number().int().min(0),
      images: z.number().int().min(0),
      /** Entries not inspected, by reason (not_image, too_large, too_many_pixels, unsafe_name, ...). */
      skipped: Counts,
    })
    .optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  finishedAt: z.number().optional(),
})
export type UploadInfo = z.infer<typeof UploadInfoSchema>

export class UploadFiles {
  constructor(readonly dir: string) {}

  #path(id: string, ext: '.bin' | '.json'): string {
    // the second guard: callers validated the id already, but a path is only ever built here
    if (!isUploadId(id)) throw new Error(`not an upload id: ${JSON.stringify(String(id).slice(0, 40))}`)
    return join(this.dir, id + ext)
  }

  dataPath(id: string): string {
    return this.#path(id, '.bin')
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
  }

  async createData(id: string): Promise<void> {
    const fh = await open(this.#path(id, '.bin'), 'wx', 0o600)
    await fh.close()
  }

  openData(id: string): Promise<FileHandle> {
    return open(this.#path(id, '.bin'), 'r+')
  }

  async dataSize(id: string): Promise<number | null> {
    try {
      return (await stat(this.#path(id, '.bin'))).size
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }

  truncateData(id: string, size: number): Promise<void> {
    return truncate(this.#path(id, '.bin'), size)
  }

  removeData(id: string): Promise<void> {
    return rm(this.#path(id, '.bin'), { force: true })
  }

  async remove(id: string): Promise<void> {
    await rm(this.#path(id, '.bin'), { force: true })
    // an info file an earlier linesight kept beside the data (the state is in the store now)
    await rm(this.#path(id, '.json'), { force: true })
  }
}
