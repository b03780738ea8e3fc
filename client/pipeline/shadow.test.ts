import { describe, expect, it } from 'vitest'
import type { Detection } from '../../shared/domain/detection.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { ShadowBook } from './shadow.ts'

const det = (classId: number, box: [number, number, number, number], score = 0.9): Detection => ({ classId, class: `c${classId}`, score, box })
function serverResult(frameId: string, detections: Detection[], error?: InspectionResult['error']): InspectionResult {
  return {
    frameId, line: 'L1', station: 'S1', capturedAt: 0, model: { name: 'd', version: '1' }, inferredAt: 'server', ep: 'cpu', detections,
    verdict: 'pass', timings: {}, ...(error ? { error } : {}),
  }
}

describe('shadow checks', () => {
  it('pairs same-class boxes at IoU 0.5 and counts what either side saw alone', () => {
    const book = new ShadowBook()
    book.expect('f1', [det(1, [0, 0, 10, 10]), det(2, [50, 50, 60, 60])], 'webgpu', 0)
    // the server sees the first box slightly shifted, misses the second and sees a third
    const check = book.resolve(serverResult('f1', [det(1, [1, 0, 11, 10]), det(3, [80, 80, 90, 90])]))
    expect(check).toEqual({ type: 'shadow', frameId: 'f1', ep: 'webgpu', matched: 1, unmatched: 2 })
    expect(book.size).toBe(0)
  })

  it('does not pair boxes of different classes', () => {
    const book = new ShadowBook()
    book.expect('f1', [det(1, [0, 0, 10, 10])], 'wasm', 0)
    expect(book.resolve(serverResult('f1', [det(2, [0, 0, 10, 10])]))).toMatchObject({ matched: 0, unmatched: 2 })
  })

  it('compares nothing for frames it did not shadow, or that the server could not infer', () => {
    const book = new ShadowBook()
    expect(book.resolve(serverResult('other', []))).toBeNull()
    book.expect('f1', [det(1, [0, 0, 10, 10])], 'wasm', 0)
    expect(book.resolve(serverResult('f1', [], { code: 'expired', message: 'dead-lettered' }))).toBeNull()
    expect(book.size).toBe(0)
  })

  it('forgets frames whose server result never came', () => {
    const book = new ShadowBook()
    book.expect('old', [], 'wasm', 0)
    book.expect('new', [], 'wasm', 15_000)
    book.expire(20_001, 20_000)
    expect(book.size).toBe(1)
  })
})
