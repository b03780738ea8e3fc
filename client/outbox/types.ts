/**
 * What waits in the station's outbox: results inferred in this browser, with the JPEG of a failing
 * part, until the server acknowledges them as recorded.
 */
import type { BrowserResultMessage } from '../../shared/protocol/messages/browser-result.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { ImageMime } from '../../shared/protocol/envelope.ts'

export type BrowserResult = BrowserResultMessage['result']

export interface OutboxImage {
  mime: ImageMime
  width: number
  height: number
  bytes: Uint8Array
}

export interface OutboxEntry {
  /** Insertion order: replay follows it. */
  seq: number
  frameId: string
  line: string
  station: string
  result: BrowserResult
  image?: OutboxImage
  /** `rejected`: the server refused it for good; kept (not replayed) so the operator sees it. */
  state: 'pending' | 'rejected'
  error?: WireError
  addedAt: number
}

export interface OutboxCounts {
  pending: number
  rejected: number
}

/** Durable storage of the outbox (IndexedDB in the browser). */
export interface OutboxStore {
  /** Adds an entry; a frame id already present is left as it is (idempotent). */
  add(entry: Omit<OutboxEntry, 'seq'>): Promise<void>
  /** Pending entries of one station after `afterSeq`, oldest first. */
  pending(line: string, station: string, afterSeq: number, limit: number): Promise<OutboxEntry[]>
  remove(frameId: string): Promise<void>
  reject(frameId: string, error: WireError): Promise<void>
  counts(line: string, station: string): Promise<OutboxCounts>
}

/** Frames this station has a result for, wherever inferred: what "nothing lost" is checked against. */
export interface InspectedEntry {
  frameId: string
  line: string
  station: string
  where: 'server' | 'browser'
  at: number
}
