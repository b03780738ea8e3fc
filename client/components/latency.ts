/**
 * The latency rows of a result: the server's stages from the result, the station's own (capture,
 * encode, upload) from the frame it sent, in the order a frame passes them.
 */
import { STAGES, type InspectionResult } from '../../shared/domain/result.ts'
import type { SentFrame } from '../uplink/station-link.ts'

export interface LatencyRow {
  stage: string
  ms: number
  side: 'station' | 'server'
}

const CLIENT_STAGES = new Set(['capture', 'prefilter', 'encode', 'upload'])

export function latencyRows(result: InspectionResult, frame?: SentFrame): LatencyRow[] {
  // a frame inferred in this browser spent every stage here
  if (result.inferredAt === 'browser') return Object.entries(result.timings).map(([stage, ms]) => ({ stage, ms, side: 'station' }))
  const station: Record<string, number> = { ...frame?.timings }
  // upload as the station sees it: from handing the frame to the socket to the server's ack
  if (frame?.ackedAt !== undefined) station.upload = Math.max(0, frame.ackedAt - frame.sentAt)
  const rows: LatencyRow[] = []
  const known = new Set<string>(STAGES)
  for (const stage of STAGES) {
    const mine = CLIENT_STAGES.has(stage) ? station[stage] : undefined
    const ms = mine ?? result.timings[stage]
    if (ms !== undefined) rows.push({ stage, ms, side: mine !== undefined ? 'station' : 'server' })
  }
  // stages a newer server reports that this client does not know yet still show, after the rest
  for (const [stage, ms] of Object.entries(result.timings)) if (!known.has(stage)) rows.push({ stage, ms, side: 'server' })
  return rows
}

/** Capture to result on screen, on the station's clock; null when the result is not this station's frame. */
export function endToEndMs(result: InspectionResult, receivedAt: number, frame?: SentFrame): number | null {
  if (!frame && result.inferredAt !== 'browser') return null
  return Math.max(0, receivedAt - result.capturedAt)
}
