/**
 * Frame bytes too big to travel inside a broker message (over `QUEUE_INLINE_MAX_BYTES`): written
 * once here, the message carries the reference, the consumer reads them back and deletes them
 * after its ack. Quorum queues keep every message in memory and in their log on each replica,
 * so a 20 MB upload is cheaper as a file than as a message.
 *
 * The filesystem store lives in the data folder (`QUEUE_BLOB_DIR`). When gateways and workers run
 * on different hosts, that folder must be a volume they all mount (NFS, a Kubernetes RWX volume):
 * a worker that cannot see the file dead-letters the frame as `blob_missing`.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { QueueError } from './errors.ts'

export interface BlobStore {
  /** Stores the bytes; resolves with the reference a message carries. */
  put(bytes: Uint8Array): Promise<string>
  /** Rejects with `QueueError('blob_missing')` when there is no such blob. */
  get(ref: string): Promise<Uint8Array>
  /** Deleting a blob that is gone is not an error (a redelivered frame may be acked twice). */
  delete(ref: string): Promise<void>
  /**
   * Deletes blobs older than `maxAgeMs`: those of publishers that crashed between writing and
   * publishing, and of dead letters the dead-letter queue dropped. Returns how many went.
   */
  sweep(maxAgeMs: number): Promise<number>
}

// a reference comes back from the broker, where anyone with publish rights can write one:
// only this exact shape may become a path
const REF = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export class FsBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  async put(bytes: Uint8Array): Promise<string> {
    const ref = randomUUID()
    const path = this.#path(ref)
    await mkdir(join(this.dir, ref.slice(0, 2)), { recursive: true })
    // written under another name and renamed, so a reader never sees half a frame
    const tmp = `${path}.${process.pid}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, path)
    return ref
  }

  async get(ref: string): Promise<Uint8Array> {
    try {
      return await readFile(this.#path(ref))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new QueueError('blob_missing', `blob ${ref} is not in ${this.dir} (on another host, QUEUE_BLOB_DIR must be a shared volume)`, { cause: err })
      throw err
    }
  }

  async delete(ref: string): Promise<void> {
    await rm(this.#path(ref), { force: true })
  }

  async sweep(maxAgeMs: number): Promise<number> {
    const before = Date.now() - maxAgeMs
    let removed = 0
    let shards: string[]
    try {
      shards = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
    for (const shard of shards) {
      const files = await readdir(join(this.dir, shard)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTDIR' || err.code === 'ENOENT') return [] as string[]
        throw err
      })
      for (const f of files) {
        const path = join(this.dir, shard, f)
        const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined // deleted by a consumer meanwhile
          throw err
        })
        if (s && s.mtimeMs < before) {
          await rm(path, { force: true })
          removed++
        }
      }
    }
    return removed
  }

  #path(ref: string): string {
    if (!REF.test(ref)) throw new QueueError('blob_missing', `not a blob reference: ${JSON.stringify(ref.slice(0, 80))}`)
    return join(this.dir, ref.slice(0, 2), ref)
  }
}
