/**
 * Which images of a result are kept, and the thumbnail made from the original.
 * Where the bytes live is the image store's business (image-db.ts, image-table.ts).
 */
import sharp from 'sharp'
import type { Verdict } from '../../shared/domain/result.ts'
import type { Sql } from './sql.ts'
import type { StoredImage } from './types.ts'

export type ImageVariant = 'original' | 'thumbnail'

export const THUMBNAIL_MAX_PX = 320
export const THUMBNAIL_MIME = 'image/jpeg'

export interface ImagePolicy {
  /** `fail`: images of failing frames only. */
  keep: 'fail' | 'all' | 'none'
  /** Keep the original as well as the thumbnail. */
  originals: boolean
}

/** The images as they will be stored; each part present only when it is kept. */
export interface PreparedImages {
  original?: { mime: string; bytes: Uint8Array }
  thumbnail?: { mime: string; bytes: Uint8Array }
}

/**
 * The type the bytes really are. Images are served back with this as Content-Type, so it must
 * not come from the client: a "text/html" image would be a stored XSS on our origin.
 */
export function sniffMime(bytes: Uint8Array): string {
  const at = (i: number) => bytes[i] ?? -1
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg'
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return 'image/png'
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp'
  return 'application/octet-stream'
}

export function keepsImages(policy: ImagePolicy, verdict: Verdict): boolean {
  return policy.keep === 'all' || (policy.keep === 'fail' && verdict === 'fail')
}

/** A JPEG no larger than 320 px on its longer side, upright (EXIF orientation applied). */
export async function makeThumbnail(image: Uint8Array): Promise<Uint8Array> {
  const out = await sharp(image)
    .rotate()
    .resize(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 75, mozjpeg: false })
    .toBuffer()
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/**
 * Applies the policy and makes the thumbnail when the caller brought none. An original sharp
 * cannot read is still kept (when originals are), without a thumbnail; the error is returned so
 * the caller can report it.
 */
export async function prepareImages(policy: ImagePolicy, verdict: Verdict, image: StoredImage | undefined): Promise<{ images?: PreparedImages; thumbnailError?: unknown }> {
  if (!image || !keepsImages(policy, verdict)) return {}
  const images: PreparedImages = {}
  // `image.mime` is the sender's claim; what is stored is what the bytes are
  if (image.original && policy.originals) images.original = { mime: sniffMime(image.original), bytes: image.original }
  let thumbnailError: unknown
  if (image.thumbnail) {
    images.thumbnail = { mime: sniffMime(image.thumbnail), bytes: image.thumbnail }
  } else if (image.original) {
    try {
      images.thumbnail = { mime: THUMBNAIL_MIME, bytes: await makeThumbnail(image.original) }
    } catch (err) {
      thumbnailError = err
    }
  }
  if (!images.original && !images.thumbnail) return thumbnailError === undefined ? {} : { thumbnailError }
  return thumbnailError === undefined ? { images } : { images, thumbnailError }
}

/** Where a result's images live. */
export interface ImageStore {
  /**
   * True when images are written inside the transaction that records the result (they commit
   * or roll back with it); false when they are written after it committed (files).
   */
  readonly transactional: boolean
  save(sql: Sql, frameId: string, images: PreparedImages): Promise<void>
  /** As `save`, over whatever the frame had (a station's full-resolution evidence replaces its model-size image). */
  replace(sql: Sql, frameId: string, images: PreparedImages): Promise<void>
  load(sql: Sql, frameId: string, variant: ImageVariant): Promise<Uint8Array | null>
  /** Called after the rows of these frames were deleted (files) or in that transaction (table). */
  remove(sql: Sql, frameIds: readonly string[]): Promise<void>
  /** Ends what the store started (the images database's thread). */
  close?(): Promise<void>
}
