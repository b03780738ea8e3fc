/**
 * Writing and removing results, one implementation for both engines. A result is one row (the
 * full JSON plus the columns queries filter on) and one row per detection.
 */
import { ID_PATTERN } from '../../shared/domain/ids.ts'
import { InspectionResultSchema, type InspectionResult } from '../../shared/domain/result.ts'
import { StorageError, type Logger } from './errors.ts'
import { keepsImages, makeThumbnail, prepareImages, sniffMime, THUMBNAIL_MIME, type ImagePolicy, type ImageStore, type ImageVariant, type PreparedImages } from './images.ts'
import type { Db, Tx } from './sql.ts'
import type { RecordOptions, StoredImage } from './types.ts'

const HOUR_MS = 3_600_000
/** Detection rows per INSERT; keeps well under both engines' parameter limits. */
const DETECTION_CHUNK = 50
/** Results removed per retention transaction, so a large purge never holds the lock for long. */
const DELETE_BATCH = 500
/** Frames whose images may be written after their record is published, at most (about 64 x 15 to 60 KB held). */
const MAX_IMAGE_WRITES_IN_FLIGHT = 64

export interface ResultWriterOptions {
  db: Db
  images: ImageStore
  policy: ImagePolicy
  log: Logger
}

async function insertDetections(tx: Tx, r: InspectionResult): Promise<void> {
  for (let start = 0; start < r.detections.length; start += DETECTION_CHUNK) {
    const chunk = r.detections.slice(start, start + DETECTION_CHUNK)
    const params: (string | number)[] = []
    const rows = chunk.map((d, i) => {
      params.push(r.frameId, start + i, d.class, d.classId, d.score, r.line, r.capturedAt)
      const b = i * 7
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`
    })
    await tx.run(`INSERT INTO detections (frame_id, idx, class, class_id, score, line, captured_at) VALUES ${rows.join(', ')}`, params)
  }
}

function checked(input: InspectionResult): InspectionResult {
  const parsed = InspectionResultSchema.safeParse(input)
  if (!parsed.success) throw new StorageError('invalid', `not an inspection result: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return parsed.data
}

/**
 * The fields the SQL keys and files on, for a result this server built itself: the ids came through
 * the queue, so they are checked again here (three regex tests, not a full parse).
 */
function keyed(r: InspectionResult): InspectionResult {
  for (const [name, value] of [['frameId', r.frameId], ['line', r.line], ['station', r.station]] as const) {
    if (!ID_PATTERN.test(value)) throw new StorageError('invalid', `not an inspection result: ${name}: not an id`)
  }
  if (!Number.isFinite(r.capturedAt)) throw new StorageError('invalid', 'not an inspection result: capturedAt: not a finite number')
  return r
}

export class ResultWriter {
  readonly #db: Db
  readonly #images: ImageStore
  readonly #policy: ImagePolicy
  readonly #log: Logger

  constructor(opts: ResultWriterOptions) {
    this.#db = opts.db
    this.#images = opts.images
    this.#policy = opts.policy
    this.#log = opts.log
  }

  async record(input: InspectionResult, image?: StoredImage, opts?: RecordOptions): Promise<boolean> {
    const r = opts?.builtByServer ? keyed(input) : checked(input)
    // a redelivered frame is the common duplicate: skip the thumbnail work for it. Only that work
    // is worth a query per frame: ON CONFLICT below catches the duplicate, and its images are then
    // not written, so a frame that keeps no image or brings its thumbnail goes straight to the INSERT
    const makesThumbnail = image?.original !== undefined && !image.thumbnail && keepsImages(this.#policy, r.verdict)
    if (makesThumbnail && (await this.#db.one('SELECT 1 AS found FROM results WHERE frame_id = $1', [r.frameId]))) return false

    const { images, thumbnailError } = await prepareImages(this.#policy, r.verdict, image)
    if (thumbnailError !== undefined) this.#log.warn({ err: thumbnailError, frameId: r.frameId }, 'storage: no thumbnail, the image could not be decoded')

    const created = await this.#commit(r, images)
    if (created && images && !this.#images.transactional) await this.#writeImagesAfterCommit(r.frameId, images)
    return created
  }

  /**
   * Images still being written after their record committed, by frame id. The record (and the
   * result's publication to its station) does not wait for them: their write (files then) was half
   * of a model-size frame's latency at half load (bench/FINDINGS.md, "Image files off the
   * verdict's path"). Reading, replacing or removing a frame's images waits for its write; closing
   * waits for all of them. Beyond MAX_IMAGE_WRITES_IN_FLIGHT, a record waits for its own images
   * again, so a slow disk slows the line down instead of filling memory with images.
   */
  readonly #imageWrites = new Map<string, Promise<void>>()

  async #writeImagesAfterCommit(frameId: string, images: PreparedImages): Promise<void> {
    const write: Promise<void> = this.#saveAfterCommit(frameId, images)
      .catch((err: unknown) => this.#log.error({ err, frameId }, 'storage: the image write failed and its record could not be updated'))
      .finally(() => {
        if (this.#imageWrites.get(frameId) === write) this.#imageWrites.delete(frameId)
      })
    this.#imageWrites.set(frameId, write)
    if (this.#imageWrites.size > MAX_IMAGE_WRITES_IN_FLIGHT) await write
  }

  /** Resolves when the images of these frames (of every frame when none are named) are written or given up. */
  async imagesWritten(frameIds?: readonly string[]): Promise<void> {
    const writes = frameIds ? frameIds.flatMap((id) => this.#imageWrites.get(id) ?? []) : [...this.#imageWrites.values()]
    if (writes.length) await Promise.all(writes)
  }

  /**
   * Group commit: records that arrive while a transaction is being written wait and go together
   * in the next one, so a COMMIT (the WAL write) is paid per batch, not per frame. A batch that
   * fails is retried one record per transaction, so one bad record fails alone.
   */
  readonly #waiting: { r: InspectionResult; images: PreparedImages | undefined; resolve: (created: boolean) => void; reject: (e: unknown) => void }[] = []
  #writing = false

  #commit(r: InspectionResult, images: PreparedImages | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ r, images, resolve, reject })
      if (!this.#writing) void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    this.#writing = true
    try {
      while (this.#waiting.length) {
        const batch = this.#waiting.splice(0, 64)
        try {
          const created = await this.#db.transaction(async (tx) => {
            const out: boolean[] = []
            for (const w of batch) out.push(await this.#insert(tx, w.r, w.images))
            return out
          })
          batch.forEach((w, i) => w.resolve(created[i]!))
        } catch (batchError) {
          if (batch.length === 1) {
            batch[0]!.reject(batchError)
            continue
          }
          for (const w of batch) await this.#db.transaction((tx) => this.#insert(tx, w.r, w.images)).then(w.resolve, w.reject)
        }
      }
    } finally {
      this.#writing = false
    }
  }

  async #insert(tx: Tx, r: InspectionResult, images: PreparedImages | undefined): Promise<boolean> {

      const inserted = await tx.all(
        `INSERT INTO results (frame_id, line, station, captured_at, captured_hour, verdict, job_id, recorded_at, original_mime, thumbnail_mime, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (frame_id) DO NOTHING RETURNING frame_id`,
        [
          r.frameId,
          r.line,
          r.station,
          r.capturedAt,
          Math.floor(r.capturedAt / HOUR_MS) * HOUR_MS,
          r.verdict,
          r.jobId ?? null,
          Date.now(),
          images?.original?.mime ?? null,
          images?.thumbnail?.mime ?? null,
          JSON.stringify(r),
        ],
      )
      // a concurrent duplicate won the race: its record stands, ours is dropped whole
      if (!inserted.length) return false
      await insertDetections(tx, r)
      if (images && this.#images.transactional) await this.#images.save(tx, r.frameId, images)
      return true
  }

  /**
   * The result is worth more than its picture: when the files cannot be written, the record
   * stays, marked as having no image, and the failure is logged.
   */
  async #saveAfterCommit(frameId: string, images: PreparedImages): Promise<void> {
    try {
      await this.#images.save(this.#db, frameId, images)
    } catch (err) {
      this.#log.error({ err, frameId }, 'storage: the result was recorded without its image')
      await this.#db.run('UPDATE results SET original_mime = NULL, thumbnail_mime = NULL WHERE frame_id = $1', [frameId])
      // one variant may have been written before the other failed
      await this.#images.remove(this.#db, [frameId]).catch((removeErr: unknown) => this.#log.error({ err: removeErr, frameId }, 'storage: a partly written image stays on disk'))
    }
  }

  /**
   * A station's full-resolution original of a recorded frame (evidence on demand) becomes its
   * original image, and its thumbnail is made again from it; the record and its detections (in
   * camera pixels already) stay as they are. False when no record has this frame id. Throws
   * `invalid` for bytes that are not an image sharp can read: nothing is stored then.
   */
  async saveEvidence(frameId: string, original: Uint8Array): Promise<boolean> {
    // a failing first write would otherwise clear the marks this sets
    await this.imagesWritten([frameId])
    if (!(await this.#db.one('SELECT 1 AS found FROM results WHERE frame_id = $1', [frameId]))) return false
    let thumbnail: Uint8Array
    try {
      thumbnail = await makeThumbnail(original)
    } catch (err) {
      throw new StorageError('invalid', `the evidence of frame ${frameId} is not an image that can be read`, { cause: err })
    }
    const images: PreparedImages = { thumbnail: { mime: THUMBNAIL_MIME, bytes: thumbnail } }
    if (this.#policy.originals) images.original = { mime: sniffMime(original), bytes: original }
    const mark = (sql: Db | Tx) =>
      sql.run('UPDATE results SET original_mime = $2, thumbnail_mime = $3 WHERE frame_id = $1', [frameId, images.original?.mime ?? null, THUMBNAIL_MIME])
    if (this.#images.transactional) {
      await this.#db.transaction(async (tx) => {
        await this.#images.replace(tx, frameId, images)
        await mark(tx)
      })
    } else {
      // files first: a row never names an image that is not there yet
      await this.#images.replace(this.#db, frameId, images)
      await mark(this.#db)
    }
    return true
  }

  async get(frameId: string): Promise<InspectionResult | null> {
    const row = await this.#db.one<{ doc: string }>('SELECT doc FROM results WHERE frame_id = $1', [frameId])
    return row ? (JSON.parse(row.doc) as InspectionResult) : null
  }

  async getImage(frameId: string, variant: ImageVariant): Promise<{ mime: string; bytes: Uint8Array } | null> {
    if (variant !== 'original' && variant !== 'thumbnail') throw new StorageError('invalid', `variant must be original or thumbnail, got ${String(variant)}`)
    // a kiosk asks for the image as soon as the result reaches it, maybe before its file is written
    await this.imagesWritten([frameId])
    const row = await this.#db.one<{ original_mime: string | null; thumbnail_mime: string | null }>(
      'SELECT original_mime, thumbnail_mime FROM results WHERE frame_id = $1',
      [frameId],
    )
    const mime = variant === 'original' ? row?.original_mime : row?.thumbnail_mime
    if (!mime) return null
    const bytes = await this.#images.load(this.#db, frameId, variant)
    return bytes ? { mime, bytes } : null
  }

  /** Removes results (their detections and images with them) captured before `before`. */
  async deleteBefore(before: number): Promise<number> {
    if (!Number.isFinite(before)) throw new StorageError('invalid', 'deleteBefore needs a time in ms')
    let total = 0
    const fileErrors: unknown[] = []
    for (;;) {
      const gone = await this.#db.transaction(async (tx) => {
        // detections and table-held images go by ON DELETE CASCADE
        return tx.all<{ frame_id: string; original_mime: string | null; thumbnail_mime: string | null }>(
          `DELETE FROM results WHERE frame_id IN (
             SELECT frame_id FROM results WHERE captured_at < $1 ORDER BY captured_at LIMIT $2
           ) RETURNING frame_id, original_mime, thumbnail_mime`,
          [before, DELETE_BATCH],
        )
      })
      total += gone.length
      const withFiles = gone.filter((g) => g.original_mime !== null || g.thumbnail_mime !== null).map((g) => g.frame_id)
      if (withFiles.length && !this.#images.transactional) {
        try {
          await this.imagesWritten(withFiles)
          await this.#images.remove(this.#db, withFiles)
        } catch (err) {
          fileErrors.push(err)
        }
      }
      if (gone.length < DELETE_BATCH) break
    }
    if (fileErrors.length) {
      throw new StorageError('io', `deleted ${total} results, but some of their image files could not be removed`, { cause: fileErrors[0] })
    }
    return total
  }
}
