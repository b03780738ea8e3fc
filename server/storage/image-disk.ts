/**
 * Images as files under `<data dir>/images`, for the SQLite store: the database stays small
 * (fast backups, a short WAL) and a file is read without holding the database's connection.
 *
 * A file's name is the sha256 of the frame id: never client input, so no path can be smuggled
 * in, and names spread evenly over 256 sub-folders.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageError } from './errors.ts'
import { FileWriterThread, type FileToWrite } from './file-writer.ts'
import type { ImageStore, ImageVariant, PreparedImages } from './images.ts'

const SUFFIX: Record<ImageVariant, string> = { original: 'orig', thumbnail: 'thumb' }

function isNoEntry(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b))
}

export class DiskImageStore implements ImageStore {
  // written after the result committed: a slow disk must not hold the database's write lock
  readonly transactional = false

  readonly #writer = new FileWriterThread()

  constructor(readonly dir: string) {}

  pathOf(frameId: string, variant: ImageVariant): string {
    return this.#paths(frameId)[variant]
  }

  #paths(frameId: string): { dir: string } & Record<ImageVariant, string> {
    const hash = createHash('sha256').update(frameId).digest('hex')
    const dir = join(this.dir, hash.slice(0, 2))
    return { dir, original: join(dir, `${hash}.${SUFFIX.original}`), thumbnail: join(dir, `${hash}.${SUFFIX.thumbnail}`) }
  }

  async save(_sql: unknown, frameId: string, images: PreparedImages): Promise<void> {
    const paths = this.#paths(frameId)
    const files: FileToWrite[] = []
    for (const variant of ['original', 'thumbnail'] as const) {
      const image = images[variant]
      if (!image) continue
      const path = paths[variant]
      // a reader never sees half a file: write aside, then rename over (the thread removes a failed tmp)
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
      // a frame already within the thumbnail's size (a station's model-size frame) is its own
      // thumbnail: its bytes are stored once, under both names
      const original = variant === 'thumbnail' ? images.original : undefined
      const linkTo = original && sameBytes(original.bytes, image.bytes) ? paths.original : undefined
      files.push({ dir: paths.dir, tmp, path, bytes: image.bytes, ...(linkTo ? { linkTo } : {}) })
    }
    if (!files.length) return
    try {
      await this.#writer.write(files)
    } catch (err) {
      throw new StorageError('io', `could not write the images of frame ${frameId}`, { cause: err })
    }
  }

  /** Files are renamed over: a reader sees the old image or the new one, never half of either. */
  replace(sql: unknown, frameId: string, images: PreparedImages): Promise<void> {
    return this.save(sql, frameId, images)
  }

  close(): Promise<void> {
    return this.#writer.close()
  }

  async load(_sql: unknown, frameId: string, variant: ImageVariant): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(this.pathOf(frameId, variant))
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    } catch (err) {
      // the row outlived its file (a crash between commit and write): the image is simply gone
      if (isNoEntry(err)) return null
      throw new StorageError('io', `could not read the ${variant} image of frame ${frameId}`, { cause: err })
    }
  }

  async remove(_sql: unknown, frameIds: readonly string[]): Promise<void> {
    const failures: unknown[] = []
    for (const frameId of frameIds) {
      for (const variant of ['original', 'thumbnail'] as const) {
        try {
          await unlink(this.pathOf(frameId, variant))
        } catch (err) {
          if (!isNoEntry(err)) failures.push(err)
        }
      }
    }
    if (failures.length) {
      throw new StorageError('io', `could not remove ${failures.length} image file(s) under ${this.dir}`, { cause: failures[0] })
    }
  }
}
