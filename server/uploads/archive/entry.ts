/**
 * An archive, whatever its format, is a sequence of entries read once, front to back. Entry
 * names are labels for people: nothing here or downstream turns one into a path, and names that
 * try to be paths outside the archive (zip-slip) are refused by `unsafeName` anyway, so a report
 * never shows a `../../etc/passwd` as if it were a part photo.
 */
import { CodedError } from '../../errors.ts'
export interface ArchiveEntry {
  /** 0-based position in the archive, counting every entry. */
  index: number
  name: string
  /** Uncompressed size as declared (the readers enforce it while reading). */
  size: number
  type: 'file' | 'directory' | 'other'
  /** The entry's bytes; call at most once, before asking for the next entry. */
  read(): Promise<Uint8Array>
}

export interface ArchiveLimits {
  /** UPLOAD_ARCHIVE_MAX_ENTRIES */
  maxEntries: number
  /** UPLOAD_ARCHIVE_MAX_BYTES: all entries' uncompressed sizes together. */
  maxBytes: number
}

export type ArchiveRefusal = 'too_many_entries' | 'archive_too_large' | 'unreadable_archive'

/** The archive as a whole cannot be used (a bomb, or not an archive at all). */
export class ArchiveRefused extends CodedError<ArchiveRefusal> {
  override name = 'ArchiveRefused'
}

/** Counts entries and declared bytes as they come and refuses the archive past a limit. */
export class LimitTracker {
  #entries = 0
  #bytes = 0
  constructor(private readonly limits: ArchiveLimits) {}

  entry(size: number): void {
    this.#entries++
    this.#bytes += size
    if (this.#entries > this.limits.maxEntries) throw new ArchiveRefused('too_many_entries', `the archive has more than ${this.limits.maxEntries} entries (UPLOAD_ARCHIVE_MAX_ENTRIES)`)
    if (this.#bytes > this.limits.maxBytes) {
      throw new ArchiveRefused('archive_too_large', `the archive unpacks to more than ${this.limits.maxBytes} bytes (UPLOAD_ARCHIVE_MAX_BYTES); a zip bomb?`)
    }
  }
}

/** A name that would leave the extraction folder, or could fool a person or a terminal. */
export function unsafeName(name: string): boolean {
  return (
    name.length === 0 ||
    name.length > 1024 ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f\\]/.test(name) ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').includes('..')
  )
}

/** Reads a stream whole, refusing more than `expected` bytes (the reader's declared size). */
export async function collect(stream: AsyncIterable<Uint8Array> & { destroy(): void }, expected: number): Promise<Uint8Array> {
  const out = new Uint8Array(expected)
  let at = 0
  for await (const chunk of stream) {
    if (at + chunk.length > expected) {
      stream.destroy()
      throw new Error(`entry is longer than its declared ${expected} bytes`)
    }
    out.set(chunk, at)
    at += chunk.length
  }
  if (at !== expected) throw new Error(`entry ended after ${at} of its declared ${expected} bytes`)
  return out
}
