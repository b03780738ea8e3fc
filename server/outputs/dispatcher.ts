/**
 * Feeds the plant outputs: closed parts from part tracking, per-frame results (stations in
 * `continuous` mode) from the result bus, stations coming and going from the gateway's
 * sessions, and every line's stats on a timer. Each sink is called synchronously and must
 * return at once; one that throws is logged and the others still get the event.
 */
import type { PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { PartEvents } from '../parts/contract.ts'
import { StationBoard } from './board.ts'
import type { ModeOf, OutputSink, StationChange, StationPresence, StationState } from './types.ts'

export interface DispatcherDeps {
  sinks: readonly OutputSink[]
  results: { subscribe(listener: (r: InspectionResult) => void): () => void }
  parts?: PartEvents
  presence?: StationPresence
  modeOf?: ModeOf
  statsIntervalMs: number
  /** How often the stations' presence is compared with the last look, ms. */
  presenceIntervalMs?: number
  log: { warn(obj: object, msg: string): void }
  board?: StationBoard
}

export class OutputDispatcher {
  readonly board: StationBoard
  readonly #unsubscribe: (() => void)[] = []
  readonly #timers: NodeJS.Timeout[] = []

  constructor(private readonly deps: DispatcherDeps) {
    this.board = deps.board ?? new StationBoard()
    this.#unsubscribe.push(deps.results.subscribe((r) => this.result(r)))
    if (deps.parts) this.#unsubscribe.push(deps.parts.onPartClosed((p) => this.part(p)))
    if (deps.presence) this.#timers.push(setInterval(() => this.lookAtPresence(), deps.presenceIntervalMs ?? 500))
    this.#timers.push(setInterval(() => this.publishStats(), deps.statsIntervalMs))
    for (const t of this.#timers) t.unref()
  }

  part(part: PartRecord): void {
    this.#refreshMode(part.line, part.station)
    const state = this.board.partClosed(part)
    this.#each((s) => s.part?.(part, state))
    this.#each((s) => s.station?.(state, 'part'))
  }

  result(r: InspectionResult): void {
    // an uploaded archive's frames never passed the line
    if (r.jobId !== undefined) return
    // parts carry the verdicts of presence and trigger stations; their frames are not parts
    if (this.#refreshMode(r.line, r.station) !== 'continuous') return
    this.#each((s) => s.result?.(r))
  }

  /** Marks stations online or offline from the sessions connected now. */
  lookAtPresence(now = Date.now()): void {
    const here = new Set<string>()
    for (const { line, station } of this.deps.presence?.() ?? []) {
      here.add(`${line}\u0000${station}`)
      this.#refreshMode(line, station)
      if (this.board.setOnline(line, station, true, now)) this.#changed(this.board.get(line, station), 'online')
    }
    for (const s of this.board.stations()) {
      if (s.online && !here.has(`${s.line}\u0000${s.station}`) && this.board.setOnline(s.line, s.station, false, now)) this.#changed(s, 'offline')
    }
  }

  publishStats(now = Date.now()): void {
    for (const line of this.board.lines()) {
      const stats = this.board.stats(line, now)
      this.#each((s) => s.stats?.(stats))
    }
  }

  #refreshMode(line: string, station: string): StationState['mode'] {
    const mode = this.deps.modeOf?.(line, station) ?? 'continuous'
    if (this.board.setMode(line, station, mode)) this.#changed(this.board.get(line, station), 'mode')
    return mode
  }

  #changed(state: StationState, change: StationChange): void {
    this.#each((s) => s.station?.(state, change))
  }

  #each(call: (sink: OutputSink) => void): void {
    for (const sink of this.deps.sinks) {
      try {
        call(sink)
      } catch (err) {
        this.deps.log.warn({ err: String(err), output: sink.name }, 'a plant output failed to take an event')
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    for (const u of this.#unsubscribe) u()
    await Promise.all(this.deps.sinks.map((s) => s.close()))
  }
}
