/**
 * What a finished upload holds, in two passes over the file on disk: `inventory` checks every
 * entry (name, size, image type, pixel count from the header alone) and keeps none of the bytes;
 * `frames` then reads only the accepted images, one at a time, as the queue has room. Nothing is
 * ever extracted to disk, so there is no path for an entry name to escape through.
 */
import { open, stat } from 'node:fs/promises'
import sharp from 'sharp'
import { ArchiveRefused, unsafeName, type ArchiveEntry, type ArchiveLimits } from './archive/entry.ts'
import { tarEntries } from './archive/tar.ts'
import { zipEntries } from './archive/zip.ts'
import { imageType, SNIFF_BYTES, uploadKind, type ImageType, type UploadKind } from './sniff.ts'

export interface UnpackLimits extends ArchiveLimits {
  /** MAX_FRAME_BYTES: the largest image, as for a live frame. */
  maxFrameBytes: number
  /** MAX_PIXELS */
  maxPixels: number
}

export interface ImageEntry {
  index: number
  /** The entry's name or the upload's filename: a label. */
  name: string
  mime: ImageType
  width: number
  height: number
}

export interface Inventory {
  kind: UploadKind
  /** Entries in the archive (1 for a single image). */
  entries: number
  images: ImageEntry[]
  /** Entries not inspected, by reason. */
  skipped: Record<string, number>
}

/** Why an entry was skipped; the counts are part of the job. */
export type SkipReason = 'not_a_file' | 'unsafe_name' | 'empty' | 'too_large' | 'not_image' | 'undecodable' | 'too_many_pixels' | 'unreadable'

export class UploadRefused extends Error {
  override name = 'UploadRefused'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function sniffFile(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r')
  try {
    const head = new Uint8Array(SNIFF_BYTES)
    const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0)
    return head.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

function entriesOf(path: string, kind: Exclude<UploadKind, 'image'>, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  return kind === 'zip' ? zipEntries(path, limits) : tarEntries(path, kind === 'tar.gz', limits)
}

/** Reads only the image header: a 20000x20000 PNG of a few KB is refused without decoding it. */
async function checkImage(bytes: Uint8Array, limits: UnpackLimits): Promise<{ mime: ImageType; width: number; height: number } | SkipReason> {
  if (bytes.length === 0) return 'empty'
  const mime = imageType(bytes)
  if (!mime) return 'not_image'
  let meta
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata()
  } catch {
    return 'undecodable'
  }
  const width = meta.width ?? 0
  const height = meta.height ?? 0
  if (width <= 0 || height <= 0) return 'undecodable'
  if (width * height > limits.maxPixels) return 'too_many_pixels'
  return { mime, width, height }
}

/** Pass 1. Throws ArchiveRefused / UploadRefused when the upload is refused as a whole. */
export async function inventory(path: string, label: string, limits: UnpackLimits): Promise<Inventory> {
  const kind = uploadKind(await sniffFile(path))
  if (!kind) throw new UploadRefused('unsupported_type', 'the upload is neither a JPEG, PNG or WebP image nor a zip, tar or tar.gz archive')
  const skipped: Record<string, number> = {}
  const skip = (reason: SkipReason) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1
  }
  if (kind === 'image') {
    const { size } = await stat(path)
    if (size > limits.maxFrameBytes) throw new UploadRefused('too_large', `the image has ${size} bytes; at most ${limits.maxFrameBytes} are accepted (MAX_FRAME_BYTES)`)
    const checked = await checkImage(await readWhole(path, size), limits)
    if (typeof checked === 'string') throw new UploadRefused(checked, imageRefusal(checked, limits))
    return { kind, entries: 1, images: [{ index: 0, name: label, ...checked }], skipped }
  }
  const images: ImageEntry[] = []
  let entries = 0
  for await (const entry of entriesOf(path, kind, limits)) {
    entries++
    if (entry.type === 'directory') continue
    if (entry.type !== 'file') skip('not_a_file')
    else if (unsafeName(entry.name)) skip('unsafe_name')
    else if (entry.size === 0) skip('empty')
    else if (entry.size > limits.maxFrameBytes) skip('too_large')
    else {
      let bytes: Uint8Array
      try {
        bytes = await entry.read()
      } catch {
        skip('unreadable')
        continue
      }
      const checked = await checkImage(bytes, limits)
      if (typeof checked === 'string') skip(checked)
      else images.push({ index: entry.index, name: entry.name.slice(0, 200), ...checked })
    }
  }
  return { kind, entries, images, skipped }
}

/** Pass 2: the accepted images' bytes, in archive order. */
export async function* frames(path: string, inv: Inventory, limits: UnpackLimits): AsyncGenerator<{ image: ImageEntry; bytes: Uint8Array }> {
  if (inv.kind === 'image') {
    const image = inv.images[0]
    if (image) yield { image, bytes: await readWhole(path, (await stat(path)).size) }
    return
  }
  const wanted = new Map(inv.images.map((i) => [i.index, i]))
  for await (const entry of entriesOf(path, inv.kind, limits)) {
    const image = wanted.get(entry.index)
    if (image) yield { image, bytes: await entry.read() }
  }
}

async function readWhole(path: string, size: number): Promise<Uint8Array> {
  const fh = await open(path, 'r')
  try {
    const out = new Uint8Array(size)
    let at = 0
    while (at < size) {
      const { bytesRead } = await fh.read(out, at, size - at, at)
      if (bytesRead === 0) throw new Error(`upload file ended after ${at} of ${size} bytes`)
      at += bytesRead
    }
    return out
  } finally {
    await fh.close()
  }
}

function imageRefusal(reason: SkipReason, limits: UnpackLimits): string {
  switch (reason) {
    case 'too_many_pixels':
      return `the image has more than ${limits.maxPixels} pixels (MAX_PIXELS); refused from its header, before decoding`
    case 'undecodable':
      return 'the image header cannot be read'
    case 'empty':
      return 'the upload is empty'
    default:
      return `the image was refused (${reason})`
  }
}

export { ArchiveRefused }
