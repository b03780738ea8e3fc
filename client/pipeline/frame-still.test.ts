import { describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { PartView } from '../parts/part-screen.ts'
import { FrameStill, MAX_PENDING } from './frame-still.ts'

const img = (n: number) => ({ mime: 'image/jpeg', width: 640, height: 480, bytes: new Uint8Array([n]) })
const result = (frameId: string, capturedAt: number, verdict: 'pass' | 'fail' = 'pass'): InspectionResult => ({
  frameId,
  line: 'L1',
  station: 'S1',
  capturedAt,
  model: { name: 'm', version: '1' },
  inferredAt: 'server',
  ep: 'cpu',
  detections: verdict === 'fail' ? [{ classId: 1, class: 'scratch', score: 0.9, box: [1, 2, 3, 4] }] : [],
  verdict,
  timings: {},
  width: 640,
  height: 480,
})

function still() {
  const urls: string[] = []
  const revoked: string[] = []
  const changes: (PartView | null)[] = []
  const s = new FrameStill({
    onChange: (v) => changes.push(v),
    createUrl: (bytes) => {
      urls.push(`blob:${bytes[0]}`)
      return `blob:${bytes[0]}`
    },
    revokeUrl: (u) => revoked.push(u),
  })
  return { s, urls, revoked, changes }
}

describe('continuous mode still', () => {
  it('shows each result on the image of its own frame, not on the newest sent one', () => {
    const { s } = still()
    s.addImage('f1', img(1))
    s.addImage('f2', img(2))
    s.addImage('f3', img(3))
    s.addResult(result('f1', 1, 'fail'))
    expect(s.shown?.images.map((i) => [i.frameId, i.url, i.result?.frameId])).toEqual([['f1', 'blob:1', 'f1']])
    expect(s.shown?.verdict).toBe('fail')
    expect(s.pending).toBe(2)
  })

  it('revokes the image it replaces and ignores a result older than the one on screen', () => {
    const { s, revoked } = still()
    s.addImage('f1', img(1))
    s.addImage('f2', img(2))
    s.addResult(result('f2', 2))
    s.addResult(result('f1', 1, 'fail'))
    expect(s.shown?.images[0]?.frameId).toBe('f2')
    s.addImage('f3', img(3))
    s.addResult(result('f3', 3))
    expect(revoked).toEqual(['blob:2'])
  })

  it('shows a result without a kept image as a verdict with no image, never beside an older image', () => {
    const { s } = still()
    s.addImage('f1', img(1))
    s.addResult(result('f1', 1, 'fail'))
    s.addResult(result('f2', 2, 'pass'))
    expect(s.shown?.images).toEqual([])
    expect(s.shown?.verdict).toBe('pass')
  })

  it('takes the image that comes with a local result', () => {
    const { s } = still()
    s.addResult(result('f1', 1, 'fail'), img(7))
    expect(s.shown?.images[0]?.url).toBe('blob:7')
  })

  it(`keeps at most ${MAX_PENDING} frames in flight, dropping the oldest`, () => {
    const { s } = still()
    for (let i = 0; i < MAX_PENDING + 5; i++) s.addImage(`f${i}`, img(i))
    expect(s.pending).toBe(MAX_PENDING)
    s.addResult(result('f0', 0))
    expect(s.shown?.images).toEqual([])
    s.addResult(result(`f${MAX_PENDING + 4}`, MAX_PENDING + 4))
    expect(s.shown?.images).toHaveLength(1)
  })
})
