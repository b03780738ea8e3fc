/**
 * Zip entries through yauzl: only the central directory is trusted for sizes, and yauzl checks
 * every entry's data against them while inflating (`validateEntrySizes`), so a lying header
 * cannot inflate past what was counted. Names are read raw (yauzl's own name checks would refuse
 * the whole archive for one bad name; we refuse only that entry).
 */
import yauzl from 'yauzl'
import { ArchiveRefused, LimitTracker, collect, type ArchiveEntry, type ArchiveLimits } from './entry.ts'

const UTF8_FLAG = 0x800
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000

function decodeName(raw: Buffer, flags: number): string {
  // cp437 names come out as latin1: close enough for a label
  return raw.toString(flags & UTF8_FLAG ? 'utf8' : 'latin1')
}

function typeOf(name: string, entry: yauzl.Entry): ArchiveEntry['type'] {
  if (name.endsWith('/')) return 'directory'
  // Unix mode in the high half of the external attributes (when made on Unix): links, devices...
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT
  if (entry.versionMadeBy >>> 8 === 3 && mode !== 0 && mode !== S_IFREG) return mode === S_IFDIR ? 'directory' : 'other'
  return 'file'
}

export async function* zipEntries(path: string, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  let zip: yauzl.ZipFile
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true })
  } catch (err) {
    throw new ArchiveRefused('unreadable_archive', `not a readable zip: ${(err as Error).message}`, { cause: err })
  }
  try {
    // the end record says how many entries follow: refuse a bomb before reading any of them
    if (zip.entryCount > limits.maxEntries) throw new ArchiveRefused('too_many_entries', `the zip declares ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted (UPLOAD_ARCHIVE_MAX_ENTRIES)`)
    const tracker = new LimitTracker(limits)
    let index = 0
    const entries = zip.eachEntry()
    for (;;) {
      let next: IteratorResult<yauzl.Entry>
      try {
        next = await entries.next()
      } catch (err) {
        throw new ArchiveRefused('unreadable_archive', `the zip's directory is damaged: ${(err as Error).message}`, { cause: err })
      }
      if (next.done) return
      const entry = next.value
      tracker.entry(entry.uncompressedSize)
      const name = decodeName(entry.fileName as unknown as Buffer, entry.generalPurposeBitFlag)
      yield {
        index: index++,
        name,
        size: entry.uncompressedSize,
        type: typeOf(name, entry),
        read: async () => collect(await zip.openReadStreamPromise(entry), entry.uncompressedSize),
      }
    }
  } finally {
    zip.close()
  }
}
