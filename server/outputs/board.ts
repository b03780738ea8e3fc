/**
 * Every station's state as the outputs report it (online, mode, last verdict, counts) and each
 * line's stats. Counts start at this process's start: PLC and SCADA counters are read as deltas.
 */
import type { InspectionMode, PartRecord } from '../../shared/domain/part.ts'
import type { LineStats, StationState } from './types.ts'

const THROUGHPUT_WINDOW_MS = 60_000

interface LineCounts {
  parts: number
  fails: number
  /** Close times within the throughput window, oldest first. */
  recent: number[]
}

const key = (line: string, station: string) => `${line}\u0000${station}`

export class StationBoard {
  readonly #stations = new Map<string, StationState>()
  readonly #lines = new Map<string, LineCounts>()
  readonly #since: number

  constructor(now = Date.now()) {
    this.#since = now
  }

  get(line: string, station: string, now = Date.now()): StationState {
    let s = this.#stations.get(key(line, station))
    if (!s) {
      s = { line, station, online: false, since: now, mode: 'continuous', lastVerdict: null, lastPartId: null, partsInspected: 0, partsFailed: 0 }
      this.#stations.set(key(line, station), s)
    }
    return s
  }

  stations(): StationState[] {
    return [...this.#stations.values()]
  }

  lines(): string[] {
    return [...new Set([...this.#stations.values()].map((s) => s.line))].sort()
  }

  /** True when it changed. */
  setOnline(line: string, station: string, online: boolean, now = Date.now()): boolean {
    const s = this.get(line, station, now)
    if (s.online === online) return false
    s.online = online
    s.since = now
    return true
  }

  setMode(line: string, station: string, mode: InspectionMode): boolean {
    const s = this.get(line, station)
    if (s.mode === mode) return false
    s.mode = mode
    return true
  }

  partClosed(part: PartRecord, now = Date.now()): StationState {
    const s = this.get(part.line, part.station, now)
    s.lastPartId = part.partId
    s.lastVerdict = part.verdict
    s.partsInspected++
    const failed = part.verdict !== 'pass' // a part nobody could judge does not pass
    if (failed) s.partsFailed++
    let c = this.#lines.get(part.line)
    if (!c) this.#lines.set(part.line, (c = { parts: 0, fails: 0, recent: [] }))
    c.parts++
    if (failed) c.fails++
    c.recent.push(now)
    return s
  }

  stats(line: string, now = Date.now()): LineStats {
    const c = this.#lines.get(line) ?? { parts: 0, fails: 0, recent: [] }
    while (c.recent.length && c.recent[0]! <= now - THROUGHPUT_WINDOW_MS) c.recent.shift()
    return {
      line,
      parts: c.parts,
      fails: c.fails,
      yield: c.parts ? (c.parts - c.fails) / c.parts : null,
      throughputPerMin: c.recent.length,
      since: this.#since,
      at: now,
    }
  }
}
