/**
 * The JSON every output sends (docs/plant-outputs.md has the schemas). A part's payload is the
 * part record (shared/domain/part.ts) plus a link to its image; its idempotency key is
 * (line, station, partId), a frame's is its frameId.
 */
import type { PartRecord } from '../../shared/domain/part.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { LineStats, StationState } from './types.ts'

export type PartPayload = PartRecord & {
  /** Path of the image that decided the verdict (the first defect's frame, else the first frame), on the linesight server. */
  image: string | null
}

const imagePath = (frameId: string) => `/api/v1/results/${encodeURIComponent(frameId)}/image`

export function partPayload(part: PartRecord): PartPayload {
  const frame = part.defects[0]?.frameId ?? part.frames[0]
  return { ...part, image: frame ? imagePath(frame) : null }
}

export interface ResultPayload {
  frameId: string
  line: string
  station: string
  verdict: InspectionResult['verdict']
  detections: InspectionResult['detections']
  capturedAt: number
  model: InspectionResult['model']
  image: string
  error?: InspectionResult['error']
}

export function resultPayload(r: InspectionResult): ResultPayload {
  const p: ResultPayload = { frameId: r.frameId, line: r.line, station: r.station, verdict: r.verdict, detections: r.detections, capturedAt: r.capturedAt, model: r.model, image: imagePath(r.frameId) }
  if (r.error) p.error = r.error
  return p
}

export interface StatePayload {
  line: string
  station: string
  state: 'online' | 'offline'
  since: number
  mode: StationState['mode']
  lastVerdict: StationState['lastVerdict']
  lastPartId: StationState['lastPartId']
}

export function statePayload(s: StationState): StatePayload {
  return { line: s.line, station: s.station, state: s.online ? 'online' : 'offline', since: s.since, mode: s.mode, lastVerdict: s.lastVerdict, lastPartId: s.lastPartId }
}

export type StatsPayload = LineStats
