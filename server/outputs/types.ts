/**
 * What the plant outputs (MQTT, OPC UA, webhooks) are told, and the narrow sources they are fed
 * from. Every output is a sink: it must return at once and never throw into inspection; a slow
 * or dead broker or receiver costs its own bounded queue, never a frame.
 */
import type { InspectionMode, PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult, Verdict } from '../../shared/domain/result.ts'

export interface StationState {
  line: string
  station: string
  online: boolean
  /** ms since the epoch of the last online/offline change. */
  since: number
  mode: InspectionMode
  lastVerdict: Verdict | null
  lastPartId: string | null
  /** Closed parts since this process started. */
  partsInspected: number
  partsFailed: number
}

export interface LineStats {
  line: string
  /** Closed parts and failed ones since `since` (this process's start). */
  parts: number
  fails: number
  /** passes / parts, 0-1; null before the first part. */
  yield: number | null
  /** Parts closed in the last minute. */
  throughputPerMin: number
  since: number
  at: number
}

export type StationChange = 'online' | 'offline' | 'mode' | 'part'

export interface OutputSink {
  readonly name: 'mqtt' | 'opcua' | 'webhook'
  part?(part: PartRecord, state: StationState): void
  /** Per frame, for stations in `continuous` mode. */
  result?(result: InspectionResult): void
  station?(state: StationState, change: StationChange): void
  stats?(stats: LineStats): void
  close(): Promise<void>
}

/** The stations connected to this process now (the gateway's sessions, after their hello). */
export type StationPresence = () => Iterable<{ line: string; station: string }>

/** A station's inspection mode, where part tracking knows it; `continuous` otherwise. */
export type ModeOf = (line: string, station: string) => InspectionMode | undefined
