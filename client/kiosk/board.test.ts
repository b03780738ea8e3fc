import { describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { addFailures, applyResult, classRanking, newBoard, passRate } from './board.ts'

let seq = 0
function result(verdict: 'pass' | 'fail', classes: string[], extra: Partial<InspectionResult> = {}): InspectionResult {
  seq++
  return {
    frameId: `f${seq}`, line: 'L1', station: 'S1', capturedAt: 1000 + seq, model: { name: 'detector', version: '1' },
    inferredAt: 'server', ep: 'cpu', verdict, timings: {},
    detections: classes.map((c, i) => ({ classId: i, class: c, score: 0.9, box: [0, 0, 10, 10] as [number, number, number, number] })),
    ...extra,
  }
}

describe('kiosk line board', () => {
  it('counts verdicts and detections per class', () => {
    const b = newBoard('L1', 0)
    applyResult(b, result('pass', ['part']), 1, 6)
    applyResult(b, result('fail', ['part', 'scratch']), 2, 6)
    applyResult(b, result('fail', ['part', 'scratch', 'dent']), 3, 6)
    expect([b.pass, b.fail, b.errors]).toEqual([1, 2, 0])
    expect(classRanking(b)).toEqual([['part', 3], ['scratch', 2], ['dent', 1]])
    expect(passRate(b)).toBeCloseTo(1 / 3)
    expect(b.latest?.frameId).toBe(`f${seq}`)
  })

  it('counts a result delivered twice only once', () => {
    const b = newBoard('L1', 0)
    const r = result('fail', ['crack'])
    expect(applyResult(b, r, 1, 6)).toBe(true)
    expect(applyResult(b, r, 2, 6)).toBe(false)
    expect([b.fail, b.perClass.crack, b.failures.length]).toEqual([1, 1, 1])
  })

  it('keeps the newest failures only, newest first', () => {
    const b = newBoard('L1', 0)
    const fails = Array.from({ length: 8 }, () => result('fail', ['dent']))
    for (const f of fails) applyResult(b, f, 0, 3)
    expect(b.failures.map((f) => f.frameId)).toEqual([fails[7]!.frameId, fails[6]!.frameId, fails[5]!.frameId])
  })

  it('merges failures from the history with live ones without duplicates', () => {
    const b = newBoard('L1', 0)
    const old = [result('fail', ['stain']), result('fail', ['stain'])]
    const live = result('fail', ['crack'])
    applyResult(b, live, 0, 6)
    addFailures(b, [...old, live], 6)
    expect(b.failures.map((f) => f.frameId)).toEqual([live.frameId, old[1]!.frameId, old[0]!.frameId])
  })

  it('keeps frames whose inference failed out of the pass rate', () => {
    const b = newBoard('L1', 0)
    applyResult(b, result('fail', [], { error: { code: 'undecodable', message: 'x' } }), 0, 6)
    expect([b.pass, b.fail, b.errors, b.failures.length]).toEqual([0, 0, 1, 0])
    expect(passRate(b)).toBeNull()
  })
})
