/**
 * The outbox and the inspected-frames journal in IndexedDB, so results inferred while the server
 * was unreachable survive a reload, a crash of the tab, or the tablet's battery running out.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { InspectedEntry, OutboxCounts, OutboxEntry, OutboxStore } from './types.ts'

export const STATION_DB = 'linesight-station'
/** Inspected frame ids kept for checking; older ones are pruned. */
const MAX_INSPECTED = 20_000

interface StationDb extends DBSchema {
  outbox: {
    key: number
    value: OutboxEntry
    indexes: { frameId: string; station: [string, string, number]; state: [string, string, string] }
  }
  inspected: {
    key: string
    value: InspectedEntry
    indexes: { at: number }
  }
}

export function openStationDb(): Promise<IDBPDatabase<StationDb>> {
  return openDB<StationDb>(STATION_DB, 1, {
    upgrade(db) {
      const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
      outbox.createIndex('frameId', 'frameId', { unique: true })
      outbox.createIndex('station', ['line', 'station', 'seq'])
      outbox.createIndex('state', ['line', 'station', 'state'])
      const inspected = db.createObjectStore('inspected', { keyPath: 'frameId' })
      inspected.createIndex('at', 'at')
    },
  })
}

export class IdbOutboxStore implements OutboxStore {
  constructor(private readonly db: IDBPDatabase<StationDb>) {}

  async add(entry: Omit<OutboxEntry, 'seq'>): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite')
    if ((await tx.store.index('frameId').getKey(entry.frameId)) === undefined) await tx.store.add(entry as OutboxEntry)
    await tx.done
  }

  async pending(line: string, station: string, afterSeq: number, limit: number): Promise<OutboxEntry[]> {
    const range = IDBKeyRange.bound([line, station, afterSeq], [line, station, Number.MAX_SAFE_INTEGER], true, false)
    const out: OutboxEntry[] = []
    let cursor = await this.db.transaction('outbox').store.index('station').openCursor(range)
    while (cursor && out.length < limit) {
      if (cursor.value.state === 'pending') out.push(cursor.value)
      cursor = await cursor.continue()
    }
    return out
  }

  async remove(frameId: string): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite')
    const key = await tx.store.index('frameId').getKey(frameId)
    if (key !== undefined) await tx.store.delete(key)
    await tx.done
  }

  async reject(frameId: string, error: WireError): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite')
    const entry = await tx.store.index('frameId').get(frameId)
    if (entry) await tx.store.put({ ...entry, state: 'rejected', error })
    await tx.done
  }

  async counts(line: string, station: string): Promise<OutboxCounts> {
    const [pending, rejected] = await Promise.all([
      this.db.countFromIndex('outbox', 'state', [line, station, 'pending']),
      this.db.countFromIndex('outbox', 'state', [line, station, 'rejected']),
    ])
    return { pending, rejected }
  }
}

/** The journal of frames this station has a result for. */
export class InspectedJournal {
  #added = 0

  constructor(private readonly db: IDBPDatabase<StationDb>) {}

  async add(entry: InspectedEntry): Promise<void> {
    await this.db.put('inspected', entry)
    if (++this.#added % 1000 === 0) await this.#prune()
  }

  async list(line: string, station: string): Promise<InspectedEntry[]> {
    return (await this.db.getAll('inspected')).filter((e) => e.line === line && e.station === station)
  }

  async #prune(): Promise<void> {
    const excess = (await this.db.count('inspected')) - MAX_INSPECTED
    if (excess <= 0) return
    const tx = this.db.transaction('inspected', 'readwrite')
    let cursor = await tx.store.index('at').openCursor()
    for (let n = 0; cursor && n < excess; n++) {
      await cursor.delete()
      cursor = await cursor.continue()
    }
    await tx.done
  }
}
