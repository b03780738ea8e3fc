import { describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { PartScreen } from './part-screen.ts'

const image = { mime: 'image/jpeg', width: 640, height: 480, bytes: new Uint8Array([1]) }
const result = (frameId: string, partId: string, verdict: 'pass' | 'fail'): InspectionResult => ({
  frameId, partId, line: 'L', station: 'S', capturedAt: 0, model: { name: 'd', version: '1' }, inferredAt: 'server', ep: 'cpu', timings: {}, verdict,
  detections: verdict === 'fail' ? [{ classId: 1, class: 'scratch', score: 0.9, box: [1, 2, 30, 40] }] : [],
})

function screen(hold = true) {
  const failed: string[] = []
  const revoked: string[] = []
  let n = 0
  const s = new PartScreen({ rule: () => 'any', holdFailures: () => hold, onFail: (p) => failed.push(p.partId), onChange: () => undefined, createUrl: () => `blob:${++n}`, revokeUrl: (u) => revoked.push(u) })
  return { s, failed, revoked }
}

describe('part screen', () => {
  it('puts each result on the image it was inferred from', () => {
    const { s } = screen()
    s.addImage('P1', 'a', image)
    s.addImage('P1', 'b', image)
    s.addResult(result('b', 'P1', 'pass'))
    expect(s.shown?.images.map((i) => [i.frameId, i.result?.frameId])).toEqual([['a', undefined], ['b', 'b']])
  })

  it('holds a failing part on screen until acknowledged, alarming once, while later parts wait behind it', () => {
    const { s, failed, revoked } = screen()
    s.addImage('P1', 'a', image)
    s.addResult(result('a', 'P1', 'fail'))
    s.addResult(result('a', 'P1', 'fail'))
    expect(failed).toEqual(['P1'])
    s.addImage('P2', 'b', image)
    s.addResult(result('b', 'P2', 'pass'))
    expect(s.shown?.partId).toBe('P1')
    expect(s.held?.partId).toBe('P1')
    s.acknowledge()
    expect(s.held).toBeNull()
    expect(s.shown?.partId).toBe('P2')
    expect(revoked).toEqual(['blob:1'])
  })

  it('does not hold a failing part when the line does not ask for it', () => {
    const { s, failed } = screen(false)
    s.addImage('P1', 'a', image)
    s.addResult(result('a', 'P1', 'fail'))
    expect(failed).toEqual(['P1'])
    expect(s.held).toBeNull()
    s.addImage('P2', 'b', image)
    expect(s.shown?.partId).toBe('P2')
  })
})
