/**
 * The results store. SQLite (`sqlite.ts`, the embedded default) and PostgreSQL (`postgres.ts`,
 * when DATABASE_URL is set) implement it and pass the same suite (`test/contracts/store.ts`).
 * Every write is idempotent by frame id: a retried or replayed frame never makes a second record.
 */
import type { InspectionResult, Verdict } from '../../shared/domain/result.ts'
import type { AuditLog } from './audit.ts'
import type { Logger } from './errors.ts'
import type { UploadStateStore } from './upload-state.ts'
import type { JobStore } from './jobs.ts'
import type { LoadHistory } from './load-history.ts'
import type { ReviewStore } from './reviews.ts'
import type { CandidateStore } from './candidates.ts'
import type { PartStore } from './parts.ts'
import type { SettingsStore } from './settings-store.ts'
import type { TokenStore } from './tokens.ts'
import type { DeviceStore } from './devices.ts'
import type { LineStore } from './lines.ts'
import type { WebhookStore } from './webhooks.ts'

export interface StoredImage {
  /** The sender's claim. What is stored and served is the type sniffed from the bytes. */
  mime: string
  /** The original image as received. */
  original?: Uint8Array
  /** A small JPEG for lists and kiosks. */
  thumbnail?: Uint8Array
}

export interface ResultQuery {
  line?: string
  /** Several lines (a kiosk or station token's scope); intersected with `line`. */
  lines?: readonly string[]
  station?: string
  /** Inclusive, ms since the epoch (capturedAt). */
  from?: number
  /** Exclusive. */
  to?: number
  class?: string
  verdict?: Verdict
  jobId?: string
  /** Opaque cursor from a previous page. */
  cursor?: string
  /** @default 100, at most 1000 */
  limit?: number
}

export interface ResultPage {
  items: InspectionResult[]
  /** Absent on the last page. */
  nextCursor?: string
}

export interface HourCount {
  /** Start of the hour, ms since the epoch. */
  hour: number
  line: string
  pass: number
  fail: number
}

export interface ClassCount {
  line: string
  class: string
  /** Detections of the class (a frame with two scratches counts two). */
  count: number
}

export interface RecordOptions {
  /**
   * The result was built by this server from fields it checked at the edge (the inference
   * processor's own results): the schema check is skipped, as it cost 3 to 8 % of the main thread
   * per frame (bench/FINDINGS.md, item 5). Results from outside (browser results, the API) never
   * set it, so the store's contract still guards them.
   */
  builtByServer?: boolean
}

export interface ResultStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Runs pending versioned migrations. Safe to call from several processes at once. */
  migrate(): Promise<void>
  /**
   * Stores a result (and its images, as STORE_IMAGES / STORE_ORIGINALS say); false when a record
   * for this frame id already existed, in which case nothing changes.
   */
  record(result: InspectionResult, image?: StoredImage, opts?: RecordOptions): Promise<boolean>
  /**
   * Stores a station's full-resolution original (evidence on demand) as the recorded frame's
   * image, its thumbnail made again from it; false when no record has this frame id.
   */
  saveEvidence(frameId: string, original: Uint8Array): Promise<boolean>
  get(frameId: string): Promise<InspectionResult | null>
  getImage(frameId: string, variant: 'original' | 'thumbnail'): Promise<{ mime: string; bytes: Uint8Array } | null>
  query(q: ResultQuery): Promise<ResultPage>
  countsByHour(q: Pick<ResultQuery, 'line' | 'lines' | 'from' | 'to'>): Promise<HourCount[]>
  countsByClass(q: Pick<ResultQuery, 'line' | 'lines' | 'from' | 'to'>): Promise<ClassCount[]>
  /** Deletes results and images captured before `before`; returns how many results went. */
  deleteBefore(before: number): Promise<number>
  close(): Promise<void>
}

/**
 * Everything linesight keeps in its database, behind one connection (pool) and one schema
 * version: the results store itself plus the smaller stores beside it.
 */
export interface Store extends ResultStore {
  /** Resolves when the database answers a trivial query (readiness); rejects with why not. */
  ping(): Promise<void>
  readonly tokens: TokenStore
  readonly devices: DeviceStore
  readonly lines: LineStore
  readonly audit: AuditLog
  readonly settings: SettingsStore
  readonly loadHistory: LoadHistory
  readonly jobs: JobStore
  readonly uploads: UploadStateStore
  readonly webhooks: WebhookStore
  readonly reviews: ReviewStore
  readonly candidates: CandidateStore
  readonly parts: PartStore
}

export interface StoreOptions {
  /** Which frames' images are kept (STORE_IMAGES). @default 'fail' */
  storeImages?: 'fail' | 'all' | 'none'
  /** Keep originals beside thumbnails (STORE_ORIGINALS). @default true */
  storeOriginals?: boolean
  /** How long a verified token is trusted before it is looked up again, ms. @default 5000 */
  tokenCacheTtlMs?: number
  /** SQLite: how often other processes' settings changes are looked for. @default 1000 */
  settingsPollMs?: number
  log?: Logger
}
