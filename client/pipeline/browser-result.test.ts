import { describe, expect, it } from 'vitest'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { LocalDetection } from '../inference/api.ts'
import { browserResult, type LocalFrame } from './browser-result.ts'

const frame: LocalFrame = { frameId: 'f1', line: 'L1', station: 'S1', capturedAt: 1, width: 640, height: 480, audit: false, timings: {} }
const manifest = { name: 'm', version: '1', defectClasses: ['scratch'] } as unknown as DetectManifest
const local = (boxes: [number, number, number, number][]): LocalDetection => ({
  detections: boxes.map((box) => ({ classId: 1, class: 'scratch', score: 0.9, box })),
  verdict: boxes.length ? 'fail' : 'pass',
  ep: 'wasm',
  timings: { preprocess: 1, infer: 1, postprocess: 1 },
})

describe('browser result with a region of interest', () => {
  it('drops a defect centred outside the ROI and passes the frame, as the server does', () => {
    const r = browserResult(frame, manifest, local([[500, 200, 600, 280]]), [[0, 0, 0.5, 1]])
    expect(r.detections).toEqual([])
    expect(r.verdict).toBe('pass')
  })

  it('keeps a defect centred inside the ROI and fails the frame', () => {
    const r = browserResult(frame, manifest, local([[50, 200, 150, 280], [500, 200, 600, 280]]), [[0, 0, 0.5, 1]])
    expect(r.detections.map((d) => d.box[0])).toEqual([50])
    expect(r.verdict).toBe('fail')
  })

  it('keeps the worker verdict without an ROI', () => {
    expect(browserResult(frame, manifest, local([[500, 200, 600, 280]])).verdict).toBe('fail')
  })
})
