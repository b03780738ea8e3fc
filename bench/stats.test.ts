import { describe, expect, it } from 'vitest'
import { latencyOf, median, medianDeep, percentileOfSorted } from './stats.ts'

describe('benchmark statistics', () => {
  it('reports nearest-rank percentiles of unsorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i) // 100 .. 1, reversed
    const l = latencyOf(samples)
    expect(l.n).toBe(100)
    expect(l.p50).toBe(50)
    expect(l.p95).toBe(95)
    expect(l.p99).toBe(99)
    expect(l.mean).toBeCloseTo(50.5)
  })

  it('has no percentile for no samples rather than a made-up zero', () => {
    expect(percentileOfSorted(new Float64Array(0), 50)).toBeNaN()
    expect(median([])).toBeNaN()
  })

  it('takes the median of each field across rounds, skipping fields a round lacks', () => {
    const rounds = [
      { fps: 10, latency: { p50: 3 }, refused: { busy: 1 }, label: 'a' },
      { fps: 30, latency: { p50: 1 }, refused: {}, label: 'b' },
      { fps: 20, latency: { p50: 2 }, refused: { busy: 5 }, label: 'c' },
    ]
    const m = medianDeep(rounds as { fps: number; latency: { p50: number }; refused: Record<string, number>; label: string }[])
    expect(m.fps).toBe(20)
    expect(m.latency.p50).toBe(2)
    // the median of the rounds that saw it (1 and 5): the lower middle, a value actually measured
    expect(m.refused.busy).toBe(1)
    expect(m.label).toBe('a')
  })
})
