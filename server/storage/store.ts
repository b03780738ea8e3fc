/**
 * The store: one database handle, one image store, one change feed, and the stores built on
 * them. The engine adapters (sqlite.ts, postgres.ts) differ only in what they pass in here.
 */
import { AuditLog } from './audit.ts'
import type { ChangeFeed } from './change-feed.ts'
import type { Logger } from './errors.ts'
import type { ImagePolicy, ImageStore } from './images.ts'
import { JobStore } from './jobs.ts'
import { UploadStateStore } from './upload-state.ts'
import { LoadHistory } from './load-history.ts'
import { PartStore } from './parts.ts'
import { migrate, type MigrationReport } from './migrate.ts'
import { countDetectionsByClass, countResultsByHour, queryResults } from './result-query.ts'
import { ResultWriter } from './results.ts'
import { ReviewStore } from './reviews.ts'
import { CandidateStore } from './candidates.ts'
import { SettingsStore } from './settings-store.ts'
import type { Db } from './sql.ts'
import { TokenStore } from './tokens.ts'
import { DeviceStore } from './devices.ts'
import { LineStore } from './lines.ts'
import { WebhookStore } from './webhooks.ts'
import type { ClassCount, HourCount, RecordOptions, ResultPage, ResultQuery, Store, StoredImage } from './types.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'

export interface SqlStoreParts {
  db: Db
  images: ImageStore
  feed: ChangeFeed
  policy: ImagePolicy
  log: Logger
  tokenCacheTtlMs?: number
}

export class SqlStore implements Store {
  readonly kind: Store['kind']
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
  readonly #db: Db
  readonly #results: ResultWriter
  readonly #images: ImageStore
  #lastMigration: MigrationReport | undefined

  constructor(parts: SqlStoreParts) {
    const { db, log } = parts
    this.#db = db
    this.#images = parts.images
    this.kind = db.dialect
    this.#results = new ResultWriter({ db, images: parts.images, policy: parts.policy, log })
    this.audit = new AuditLog(db)
    this.tokens = new TokenStore(db, this.audit, parts.tokenCacheTtlMs === undefined ? {} : { cacheTtlMs: parts.tokenCacheTtlMs })
    this.lines = new LineStore(db, this.audit)
    this.devices = new DeviceStore(db, this.audit, this.tokens, this.lines)
    this.settings = new SettingsStore(db, this.audit, parts.feed, log)
    this.loadHistory = new LoadHistory(db)
    this.jobs = new JobStore(db)
    this.uploads = new UploadStateStore(db)
    this.webhooks = new WebhookStore(db)
    this.reviews = new ReviewStore(db, this.audit)
    this.candidates = new CandidateStore(db)
    this.parts = new PartStore(db)
  }

  /** The versions the last `migrate()` applied, for the startup log. */
  get lastMigration(): MigrationReport | undefined {
    return this.#lastMigration
  }

  async ping(): Promise<void> {
    await this.#db.one('SELECT 1 AS ok')
  }

  async migrate(): Promise<void> {
    this.#lastMigration = await migrate(this.#db)
  }

  record(result: InspectionResult, image?: StoredImage, opts?: RecordOptions): Promise<boolean> {
    return this.#results.record(result, image, opts)
  }

  saveEvidence(frameId: string, original: Uint8Array): Promise<boolean> {
    return this.#results.saveEvidence(frameId, original)
  }

  get(frameId: string): Promise<InspectionResult | null> {
    return this.#results.get(frameId)
  }

  getImage(frameId: string, variant: 'original' | 'thumbnail'): Promise<{ mime: string; bytes: Uint8Array } | null> {
    return this.#results.getImage(frameId, variant)
  }

  query(q: ResultQuery): Promise<ResultPage> {
    return queryResults(this.#db, q)
  }

  countsByHour(q: Pick<ResultQuery, 'line' | 'lines' | 'from' | 'to'>): Promise<HourCount[]> {
    return countResultsByHour(this.#db, q)
  }

  countsByClass(q: Pick<ResultQuery, 'line' | 'lines' | 'from' | 'to'>): Promise<ClassCount[]> {
    return countDetectionsByClass(this.#db, q)
  }

  async deleteBefore(before: number): Promise<number> {
    const results = await this.#results.deleteBefore(before)
    // parts outlive none of their frames: same retention
    await this.parts.deleteBefore(before)
    return results
  }

  async close(): Promise<void> {
    await this.settings.close()
    await this.#results.imagesWritten()
    await this.#db.close()
    await this.#images.close?.()
  }
}
