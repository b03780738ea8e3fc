/**
 * Image files written by releases before images.db (image-db.ts): `<data dir>/images/<xx>/<sha256
 * of the frame id>.orig|.thumb`. Nothing writes them any more; the images database reads them for
 * the records that still name them and removes them with those records, so a data folder from an
 * earlier release keeps its images until retention takes them.
 *
 * A file's name is the sha256 of the frame id: never client input, so no path can be smuggled in.
 */
import { createHash } from 'node:crypto'
import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageError } from './errors.ts'
import type { ImageVariant } from './images.ts'

const SUFFIX: Record<ImageVariant, string> = { original: 'orig', thumbnail: 'thumb' }

function isNoEntry(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}

export class LegacyImageFiles {
  constructor(readonly dir: string) {}

  pathOf(frameId: string, variant: ImageVariant): string {
    const hash = createHash('sha256').update(frameId).digest('hex')
    return join(this.dir, hash.slice(0, 2), `${hash}.${SUFFIX[variant]}`)
  }

  async load(frameId: string, variant: ImageVariant): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(this.pathOf(frameId, variant))
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    } catch (err) {
      if (isNoEntry(err)) return null
      throw new StorageError('io', `could not read the ${variant} image of frame ${frameId}`, { cause: err })
    }
  }

  async remove(frameIds: readonly string[]): Promise<void> {
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
