import { describe, expect, it } from 'vitest'
import { partVerdict, type PartFrame } from './part-verdict.ts'

const frame = (id: string, verdict: 'pass' | 'fail', classes: string[] = []): PartFrame => ({
  frameId: id,
  verdict,
  capturedAt: 0,
  detections: classes.map((c, i) => ({ classId: i, class: c, score: 0.9, box: [0, 0, 1, 1] as [number, number, number, number] })),
})

describe('part verdict', () => {
  it('has no verdict before any frame has a result', () => {
    expect(partVerdict([], 'any')).toEqual({ verdict: null, defects: [] })
  })

  it('fails a part under "any" when one frame of three fails, naming that frame\'s defects', () => {
    const v = partVerdict([frame('a', 'pass', ['part']), frame('b', 'fail', ['part', 'scratch']), frame('c', 'pass')], 'any', (_f, c) => c !== 'part')
    expect(v.verdict).toBe('fail')
    expect(v.defects.map((d) => [d.frameId, d.class])).toEqual([['b', 'scratch']])
  })

  it('passes a part under "majority" when only one frame of three fails', () => {
    expect(partVerdict([frame('a', 'pass'), frame('b', 'fail', ['scratch']), frame('c', 'pass')], 'majority')).toEqual({ verdict: 'pass', defects: [] })
  })

  it('fails a part under "majority" when two frames of three fail, with the defects of both', () => {
    const v = partVerdict([frame('a', 'fail', ['dent']), frame('b', 'fail', ['scratch']), frame('c', 'pass')], 'majority')
    expect(v.verdict).toBe('fail')
    expect(v.defects.map((d) => d.frameId)).toEqual(['a', 'b'])
  })

  it('passes a tie under "majority": half is not more than half', () => {
    expect(partVerdict([frame('a', 'fail', ['dent']), frame('b', 'pass')], 'majority').verdict).toBe('pass')
  })
})
