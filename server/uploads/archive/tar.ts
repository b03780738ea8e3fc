/**
 * Tar (and gzip-compressed tar) entries through tar-stream. Sizes come from the headers; the
 * decompressed stream is also counted, so a gzip bomb of padding stops at the limit too.
 */
import { createReadStream } from 'node:fs'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { ArchiveRefused, LimitTracker, collect, type ArchiveEntry, type ArchiveLimits } from './entry.ts'

/** Headers and padding: at most 1 KiB per entry, plus the end blocks. */
const TAR_OVERHEAD = 1024

class ByteLimit extends Transform {
  #seen = 0
  constructor(private readonly max: number) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.max) done(new ArchiveRefused('archive_too_large', `the archive unpacks to more than ${this.max} bytes (UPLOAD_ARCHIVE_MAX_BYTES); a gzip bomb?`))
    else done(null, chunk)
  }
}

export async function* tarEntries(path: string, gzipped: boolean, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const extract = tar.extract()
  const limit = new ByteLimit(limits.maxBytes + (limits.maxEntries + 2) * TAR_OVERHEAD)
  const stages = gzipped ? [createReadStream(path), createGunzip(), limit, extract] : [createReadStream(path), limit, extract]
  let failure: unknown
  // tar-stream's streams are streamx streams; Node's pipeline drives them like its own
  const piped = pipeline(stages as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream]).catch((err: unknown) => {
    failure = err
  })
  const tracker = new LimitTracker(limits)
  let index = 0
  try {
    for await (const stream of extract) {
      const h = stream.header
      const size = h.size ?? 0
      tracker.entry(size)
      let taken = false
      const type: ArchiveEntry['type'] = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : 'other'
      yield {
        index: index++,
        name: h.name,
        size,
        type,
        read: () => {
          taken = true
          return collect(stream as unknown as AsyncIterable<Uint8Array> & { destroy(): void }, size)
        },
      }
      // tar-stream waits until an entry is drained before it parses the next header
      if (!taken) {
        await new Promise<void>((resolve, reject) => {
          stream.once('end', () => resolve())
          stream.once('error', reject)
          stream.resume()
        })
      }
    }
  } catch (err) {
    throw asRefusal(failure ?? err)
  } finally {
    extract.destroy()
    await piped
  }
  if (failure) throw asRefusal(failure)
}

function asRefusal(err: unknown): Error {
  if (err instanceof ArchiveRefused) return err
  return new ArchiveRefused('unreadable_archive', `not a readable tar: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}
