/**
 * Reviewed frames of a line as an Ultralytics (YOLO) dataset zip, streamed:
 *
 *   images/{train,val}/<frame>.jpg   the stored original (the thumbnail when no original was kept)
 *   labels/{train,val}/<frame>.txt   one `class cx cy w h` line per reviewed box, normalised 0-1
 *   data.yaml                        path, train, val, nc, names (the model's classes, in order)
 *   linesight.json                   what was exported and which frames were left out, and why
 *
 * The split is stable: a frame is in val when the first 32 bits of sha256(frame id) fall under
 * `valFraction`, so re-exporting a wider range never moves a frame between splits.
 *
 * Memory stays bounded whatever the range: reviews are read a page at a time, and an image is
 * fetched only once fewer than IMAGES_AHEAD images wait for the zip writer, which itself is
 * pulled only as fast as the consumer (the HTTP client, the file) reads.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import yazl from 'yazl'
import { stringify } from 'yaml'
import type { Review } from '../../shared/domain/review.ts'
import type { ReviewStore } from '../storage/reviews.ts'
import type { ResultStore } from '../storage/types.ts'

export interface YoloExportOptions {
  line: string
  /** Inclusive capture time, ms. */
  from?: number
  /** Exclusive capture time, ms. */
  to?: number
  /** The model's classes, in class-id order: `names` in data.yaml and the label ids. */
  classes: readonly string[]
  /** The model the classes are from, recorded in linesight.json. */
  model: string
  /** @default 0.2 */
  valFraction?: number
}

export interface YoloExportSources {
  reviews: Pick<ReviewStore, 'latestInRange'>
  results: Pick<ResultStore, 'get' | 'getImage'>
}

export interface Skipped {
  frameId: string
  reason: 'no_image' | 'no_image_size' | 'unknown_class'
  detail?: string
}

const IMAGES_AHEAD = 4
const PAGE = 500
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' }

/** Stable train/val split from the frame id alone. */
export function splitOf(frameId: string, valFraction = 0.2): 'train' | 'val' {
  const h = createHash('sha256').update(frameId).digest().readUInt32BE(0)
  return h / 2 ** 32 < valFraction ? 'val' : 'train'
}

/** A frame id as a file name: `:` is allowed in ids but not in Windows file names; `~` is never in an id. */
export const fileStem = (frameId: string) => frameId.replace(/:/g, '~')

/** YOLO label lines: class id, then centre and size normalised by the image's size, 6 decimals. */
export function yoloLabels(review: Pick<Review, 'detections'>, classes: readonly string[], size: { width: number; height: number }): string {
  return review.detections
    .map((d) => {
      const id = classes.indexOf(d.class)
      const [x1, y1, x2, y2] = d.box
      const f = (v: number) => v.toFixed(6)
      return `${id} ${f((x1 + x2) / 2 / size.width)} ${f((y1 + y2) / 2 / size.height)} ${f((x2 - x1) / size.width)} ${f((y2 - y1) / size.height)}\n`
    })
    .join('')
}

export function dataYaml(classes: readonly string[]): string {
  return stringify({ path: '.', train: 'images/train', val: 'images/val', nc: classes.length, names: [...classes] })
}

/** The zip's bytes, produced as they are read. */
export function yoloDatasetZip(src: YoloExportSources, opts: YoloExportOptions): Readable {
  const zip = new yazl.ZipFile()
  // yazl's typings say NodeJS.ReadableStream; at runtime it is a stream.PassThrough
  const output = zip.outputStream as Readable
  let waiting = 0
  let wake: (() => void) | undefined
  const started = () => {
    waiting--
    wake?.()
  }
  let cancelled = false
  // the reader went away (client gone, file error): stop reading the store
  output.once('close', () => {
    cancelled = true
    wake?.()
  })
  const roomForAnother = async () => {
    while (waiting >= IMAGES_AHEAD && !cancelled) await new Promise<void>((resolve) => (wake = resolve))
  }
  const fail = (err: unknown) => output.destroy(err instanceof Error ? err : new Error(String(err)))

  const produce = async () => {
    const skipped: Skipped[] = []
    const counts = { train: 0, val: 0 }
    let cursor: string | undefined
    do {
      const page = await src.reviews.latestInRange({ line: opts.line, ...(opts.from !== undefined ? { from: opts.from } : {}), ...(opts.to !== undefined ? { to: opts.to } : {}), limit: PAGE, ...(cursor ? { cursor } : {}) })
      for (const review of page.items) {
        const unknown = review.detections.find((d) => !opts.classes.includes(d.class))
        if (unknown) {
          skipped.push({ frameId: review.frameId, reason: 'unknown_class', detail: `${unknown.class} is not one of ${opts.model}'s classes` })
          continue
        }
        await roomForAnother()
        if (cancelled) return
        const record = await src.results.get(review.frameId)
        if (!record?.width || !record.height) {
          skipped.push({ frameId: review.frameId, reason: 'no_image_size' })
          continue
        }
        const image = (await src.results.getImage(review.frameId, 'original')) ?? (await src.results.getImage(review.frameId, 'thumbnail'))
        if (!image) {
          skipped.push({ frameId: review.frameId, reason: 'no_image', detail: 'no image was stored for this frame (STORE_IMAGES)' })
          continue
        }
        const split = splitOf(review.frameId, opts.valFraction)
        const stem = fileStem(review.frameId)
        const mtime = new Date(review.at)
        waiting++
        const bytes = image.bytes
        // read by yazl only when it reaches this entry: that is when the image stops "waiting"
        const body = Readable.from(
          (async function* () {
            started()
            yield bytes
          })(),
        )
        // images are compressed already: stored, not deflated again
        zip.addReadStream(body, `images/${split}/${stem}.${EXTENSIONS[image.mime] ?? 'jpg'}`, { mtime, compress: false })
        zip.addBuffer(Buffer.from(yoloLabels(review, opts.classes, { width: record.width, height: record.height })), `labels/${split}/${stem}.txt`, { mtime })
        counts[split]++
      }
      cursor = page.nextCursor
    } while (cursor)
    zip.addBuffer(Buffer.from(dataYaml(opts.classes)), 'data.yaml')
    const summary = { line: opts.line, from: opts.from ?? null, to: opts.to ?? null, model: opts.model, classes: opts.classes, valFraction: opts.valFraction ?? 0.2, frames: counts, skipped }
    zip.addBuffer(Buffer.from(`${JSON.stringify(summary, null, 2)}\n`), 'linesight.json')
    zip.end()
  }
  produce().catch(fail)
  return output
}
