import { describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { endToEndMs, latencyRows } from './latency.ts'

const result: InspectionResult = {
  frameId: 'f1', line: 'L1', station: 'S1', capturedAt: 1_000, model: { name: 'd', version: '1' }, inferredAt: 'server',
  ep: 'cpu', detections: [], verdict: 'pass', timings: { queue: 3, infer: 20, decode: 4, push: 1, upload: 99, gpuCopy: 2 },
}

describe('latency rows', () => {
  it('lists the station and server stages in the order a frame passes them', () => {
    const rows = latencyRows(result, { frameId: 'f1', capturedAt: 1_000, width: 1, height: 1, timings: { capture: 2, encode: 9 }, sentAt: 1_020, ackedAt: 1_050 })
    expect(rows.map((r) => [r.stage, r.ms, r.side])).toEqual([
      ['capture', 2, 'station'],
      ['encode', 9, 'station'],
      ['upload', 30, 'station'],
      ['queue', 3, 'server'],
      ['decode', 4, 'server'],
      ['infer', 20, 'server'],
      ['push', 1, 'server'],
      ['gpuCopy', 2, 'server'],
    ])
  })

  it("uses the server's figures when the frame is not this station's", () => {
    const rows = latencyRows(result)
    expect(rows.find((r) => r.stage === 'upload')).toEqual({ stage: 'upload', ms: 99, side: 'server' })
    expect(endToEndMs(result, 2_000)).toBeNull()
  })

  it('measures end to end from capture to the result arriving', () => {
    expect(endToEndMs(result, 1_250, { frameId: 'f1', capturedAt: 1_000, width: 1, height: 1, timings: {}, sentAt: 1_010 })).toBe(250)
  })

  it('shows every stage of a frame inferred in this browser as the station\'s, in the order it passed them', () => {
    const local: InspectionResult = { ...result, inferredAt: 'browser', ep: 'wasm', timings: { capture: 2, prefilter: 3, preprocess: 4, infer: 30, postprocess: 1 } }
    expect(latencyRows(local).map((r) => [r.stage, r.side])).toEqual([
      ['capture', 'station'],
      ['prefilter', 'station'],
      ['preprocess', 'station'],
      ['infer', 'station'],
      ['postprocess', 'station'],
    ])
    expect(endToEndMs(local, 1_100)).toBe(100)
  })
})
