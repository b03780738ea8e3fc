/**
 * Part tracking: turns frame results into part records (shared/domain/part.ts). A part opens when
 * it is triggered (`trigger`), or when the first result naming it arrives (a station's presence
 * passage or burst, `POST /api/v1/detect?part=`); it closes when the station says every frame of
 * it was sent and each has its result (`endPart`), after PART_IDLE_MS without news, or on
 * request. Its verdict follows the line's rule (shared/domain/part-verdict.ts).
 *
 * Every change is written to the store in order, per part, so a reader never sees a part move
 * backwards; `onPartClosed` listeners hear a part once it is stored closed.
 *
 * One tracker per gateway process. A part's frames reach the tracker of the process that hears its
 * results: every result in the embedded (`all`) mode; with several gateways, the results of the
 * lines that gateway serves (its stations, its HTTP requests).
 */
import { isId } from '../../shared/domain/ids.ts'
import type { StationInspectionView } from '../../shared/domain/inspection.ts'
import { isPartId, sequencePartId } from '../../shared/domain/part-id.ts'
import { partVerdict, type PartFrame } from '../../shared/domain/part-verdict.ts'
import type { PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { PartStore } from '../storage/parts.ts'
import type { PartEvents, PartTrigger, TriggerRequest } from './contract.ts'
import { PartError } from './errors.ts'

type IdSource = NonNullable<PartRecord['idSource']>
type ClosedBy = NonNullable<PartRecord['closedBy']>

export interface PartTrackerDeps {
  store: Pick<PartStore, 'put' | 'get'>
  /** The station's inspection settings, the line's defaults filled in. */
  inspection(line: string, station: string): StationInspectionView
  /** Classes the named model reports as defects; undefined for a model this process does not know. */
  defectClasses: (model: string) => readonly string[] | undefined
  /** Asks the station to capture a burst; false when no such station is connected here. */
  sendTrigger(line: string, station: string, message: { partId: string; frames: number }): boolean
  idleMs: number
  log: { warn(obj: object, msg: string): void }
  now?: () => number
}

export interface PartEnd {
  line: string
  station: string
  partId: string
  /** Every frame the station sent for the part. */
  frames: readonly string[]
  reason: 'passage' | 'burst'
  idSource: IdSource
}

interface Part {
  line: string
  station: string
  partId: string
  idSource: IdSource | undefined
  openedAt: number
  closedAt: number | null
  closedBy: ClosedBy | null
  results: Map<string, PartFrame>
  /** Set once the station said which frames make the part. */
  expected: { frames: ReadonlySet<string>; reason: 'passage' | 'burst' } | undefined
  idle: ReturnType<typeof setTimeout> | undefined
  /** Writes of this part, in order. */
  writes: Promise<void>
}

/** Closed parts kept to absorb a late result (a redelivered frame) without reopening them. */
const RECENTLY_CLOSED = 1000

export class PartTracker implements PartEvents, PartTrigger {
  readonly #open = new Map<string, Part>()
  readonly #closed = new Map<string, Part>()
  readonly #listeners = new Set<(part: PartRecord) => void>()
  #lastSequence = { at: 0, counter: 0 }
  #stopped = false

  constructor(private readonly deps: PartTrackerDeps) {}

  #now(): number {
    return (this.deps.now ?? Date.now)()
  }

  onPartClosed(listener: (part: PartRecord) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async trigger(request: TriggerRequest): Promise<{ partId: string }> {
    const { line, station } = request
    if (!isId(line) || !isId(station)) throw new PartError('bad_part', 'line and station must be ids')
    if (request.partId !== undefined && !isPartId(request.partId)) throw new PartError('bad_part', 'partId must be 1-128 printable ASCII characters without spaces')
    const view = this.deps.inspection(line, station)
    if (view.mode !== 'trigger') throw new PartError('not_trigger_mode', `station ${station} of line ${line} inspects in ${view.mode} mode, not trigger`)
    const partId = request.partId ?? this.#sequence(station)
    if (!this.deps.sendTrigger(line, station, { partId, frames: view.burstFrames })) {
      throw new PartError('station_offline', `station ${station} of line ${line} is not connected to this server`)
    }
    const part = this.#openPart(line, station, partId)
    part.idSource = request.partId === undefined ? 'sequence' : 'trigger'
    this.#touch(part)
    await this.#write(part)
    return { partId }
  }

  /** A frame's result, from the result bus; results without a part id are not a part's. */
  onResult(result: InspectionResult): void {
    const partId = result.partId
    if (!partId || this.#stopped) return
    const key = keyOf(result.line, partId)
    const part = this.#open.get(key) ?? this.#closed.get(key) ?? this.#openPart(result.line, result.station, partId)
    // a redelivered frame is the same frame
    if (part.results.has(result.frameId)) return
    part.results.set(result.frameId, {
      frameId: result.frameId,
      verdict: result.verdict,
      detections: result.detections,
      capturedAt: result.capturedAt,
      model: result.model,
      ...(result.error ? { error: result.error } : {}),
    })
    if (!part.idSource && result.source === 'http') part.idSource = 'http'
    if (part.closedAt !== null) {
      // late: its verdict may change, its closing is not announced again
      void this.#write(part)
      return
    }
    this.#touch(part)
    if (this.#complete(part)) void this.#close(part, part.expected!.reason)
    else void this.#write(part)
  }

  /** The station sent every frame of the part (`part-end`). */
  endPart(end: PartEnd): void {
    if (this.#stopped) return
    const key = keyOf(end.line, end.partId)
    if (this.#closed.has(key)) return
    const part = this.#open.get(key) ?? this.#openPart(end.line, end.station, end.partId)
    part.idSource ??= end.idSource
    part.expected = { frames: new Set(end.frames), reason: end.reason }
    this.#touch(part)
    if (this.#complete(part)) void this.#close(part, end.reason)
    else void this.#write(part)
  }

  /** Closes a part now (`POST .../parts/:partId/close`); null when no such part exists. */
  async close(line: string, partId: string): Promise<PartRecord | null> {
    const part = this.#open.get(keyOf(line, partId))
    if (part) return this.#close(part, 'request')
    const closed = this.#closed.get(keyOf(line, partId))
    if (closed) {
      await closed.writes
      return recordOf(closed, this.#rule(closed), this.deps.defectClasses)
    }
    const stored = await this.deps.store.get(line, partId)
    if (!stored || stored.closedAt !== null) return stored
    // open in the store, unknown here: left by a process that stopped, or another gateway's
    const closedNow: PartRecord = { ...stored, closedAt: this.#now(), closedBy: 'request' }
    await this.deps.store.put(closedNow)
    this.#announce(closedNow)
    return closedNow
  }

  /** The part as it stands: from memory while this process tracks it, else from the store. */
  async get(line: string, partId: string): Promise<PartRecord | null> {
    const part = this.#open.get(keyOf(line, partId)) ?? this.#closed.get(keyOf(line, partId))
    if (part) return recordOf(part, this.#rule(part), this.deps.defectClasses)
    return this.deps.store.get(line, partId)
  }

  /** Open parts stay open in the store; their timers stop. Resolves once every write is done. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const part of this.#open.values()) clearTimeout(part.idle)
    await Promise.all([...this.#open.values(), ...this.#closed.values()].map((p) => p.writes))
  }

  #openPart(line: string, station: string, partId: string): Part {
    const key = keyOf(line, partId)
    const part: Part = {
      line,
      station,
      partId,
      idSource: undefined,
      openedAt: this.#now(),
      closedAt: null,
      closedBy: null,
      results: new Map(),
      expected: undefined,
      idle: undefined,
      writes: Promise.resolve(),
    }
    this.#open.set(key, part)
    return part
  }

  #complete(part: Part): boolean {
    return part.expected !== undefined && [...part.expected.frames].every((id) => part.results.has(id))
  }

  #touch(part: Part): void {
    clearTimeout(part.idle)
    part.idle = setTimeout(() => void this.#close(part, 'idle'), this.deps.idleMs)
    part.idle.unref?.()
  }

  async #close(part: Part, by: ClosedBy): Promise<PartRecord> {
    if (part.closedAt === null) {
      clearTimeout(part.idle)
      part.closedAt = this.#now()
      part.closedBy = by
      const key = keyOf(part.line, part.partId)
      this.#open.delete(key)
      this.#closed.set(key, part)
      if (this.#closed.size > RECENTLY_CLOSED) this.#closed.delete(this.#closed.keys().next().value!)
      await this.#write(part)
      this.#announce(recordOf(part, this.#rule(part), this.deps.defectClasses))
    } else {
      await part.writes
    }
    return recordOf(part, this.#rule(part), this.deps.defectClasses)
  }

  #announce(record: PartRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record)
      } catch (err) {
        this.deps.log.warn({ err: String(err), partId: record.partId }, 'a part-closed listener threw')
      }
    }
  }

  #rule(part: Part) {
    return this.deps.inspection(part.line, part.station).rule
  }

  /** Chains a write of the part's current state after its earlier ones; a failed write is logged and the next one carries the state. */
  #write(part: Part): Promise<void> {
    part.writes = part.writes.then(async () => {
      try {
        await this.deps.store.put(recordOf(part, this.#rule(part), this.deps.defectClasses))
      } catch (err) {
        this.deps.log.warn({ err: String(err), line: part.line, partId: part.partId }, 'storing a part failed; the next change writes it again')
      }
    })
    return part.writes
  }

  #sequence(station: string): string {
    const now = this.#now()
    this.#lastSequence = now === this.#lastSequence.at ? { at: now, counter: this.#lastSequence.counter + 1 } : { at: now, counter: 0 }
    return sequencePartId(station, now, this.#lastSequence.counter)
  }
}

function keyOf(line: string, partId: string): string {
  return `${line}\u0000${partId}`
}

function recordOf(part: Part, rule: 'any' | 'majority', defectClasses: PartTrackerDeps['defectClasses']): PartRecord {
  const frames = [...part.results.values()].sort((a, b) => a.capturedAt - b.capturedAt)
  const { verdict, defects } = partVerdict(frames, rule, (f, cls) => {
    const known = f.model ? defectClasses(f.model.name) : undefined
    return known === undefined ? true : known.includes(cls)
  })
  // frames named by the station whose result has not come yet are still the part's frames
  const pending = part.expected ? [...part.expected.frames].filter((id) => !part.results.has(id)) : []
  return {
    partId: part.partId,
    line: part.line,
    station: part.station,
    verdict,
    frames: [...frames.map((f) => f.frameId), ...pending],
    defects,
    openedAt: part.openedAt,
    closedAt: part.closedAt,
    closedBy: part.closedBy,
    ...(part.idSource ? { idSource: part.idSource } : {}),
  }
}
