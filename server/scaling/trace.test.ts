import { describe, expect, it } from 'vitest'
import { TraceError, parseTraceCsv, seriesToCsv, traceFromCsv } from './trace.ts'

const rows = (stepMinutes: number, values: number[], at = Date.UTC(2025, 0, 6)) =>
  ['timestamp,value', ...values.map((v, i) => `${new Date(at + i * stepMinutes * 60_000).toISOString()},${v}`)].join('\n')

describe('load traces', () => {
  it('reads frames per step at a 15-minute step into frames per minute', () => {
    const t = traceFromCsv(rows(15, [900, 900, 900, 900]), 'per-step')
    expect(t.stepMs).toBe(15 * 60_000)
    expect(t.series.length).toBe(60)
    // 900 frames in 15 minutes: 60 a minute
    for (const v of t.series.total) expect(v).toBeCloseTo(60, 9)
  })

  it('reads frames per second the same as the equivalent frames per step', () => {
    const perStep = traceFromCsv(rows(60, [3600, 7200, 3600]), 'per-step')
    const perSecond = traceFromCsv(rows(60, [1, 2, 1]), 'per-second')
    expect(Array.from(perSecond.series.total)).toEqual(Array.from(perStep.series.total))
  })

  it('turns an hourly staircase into a smooth ramp, keeping the total', () => {
    const values = [3600, 7200, 10800, 7200, 3600]
    const t = traceFromCsv(rows(60, values), 'per-step')
    let biggestJump = 0
    for (let i = 1; i < t.series.length; i++) biggestJump = Math.max(biggestJump, Math.abs(t.series.total[i]! - t.series.total[i - 1]!))
    // a staircase would jump 60 frames/min at each hour; the ramp climbs 1 a minute
    expect(biggestJump).toBeLessThanOrEqual(1 + 1e-9)
    const sum = t.series.total.reduce((a, b) => a + b, 0)
    expect(sum).toBeCloseTo(values.reduce((a, b) => a + b, 0), 0)
  })

  it('reads Unix seconds and milliseconds as well as ISO times, in any row order', () => {
    const s = Date.UTC(2025, 0, 6) / 1000
    const a = traceFromCsv(`${s + 60},2\n${s},1\n`, 'per-second')
    const b = traceFromCsv(`${(s + 60) * 1000},2\n${s * 1000},1\n`, 'per-second')
    expect(a.series.start).toBe(s * 1000)
    expect(Array.from(a.series.total)).toEqual(Array.from(b.series.total))
    expect(Array.from(a.series.total)).toEqual([60, 120])
  })

  it('reads a missing step as a step without load and counts it', () => {
    const text = rows(10, [600, 600, 600, 600]).split('\n')
    text.splice(2, 1) // the second row
    const t = traceFromCsv(text.join('\n'), 'per-step')
    expect(t.gaps).toBe(1)
    expect(t.rows).toBe(3)
    // the middle of the missing step reads near zero, not bridged at 60 a minute
    expect(t.series.total[15]).toBeLessThan(6)
    expect(t.series.total.reduce((a, b) => a + b, 0)).toBeCloseTo(3 * 600, -1)
  })

  it('rejects an irregular step, a sub-minute step, a negative value and a bad time, naming the line', () => {
    const at = Date.UTC(2025, 0, 6)
    const iso = (ms: number) => new Date(at + ms).toISOString()
    expect(() => parseTraceCsv(`${iso(0)},1\n${iso(600_000)},1\n${iso(1_500_000)},1`, 'per-step')).toThrow(/irregular step/)
    expect(() => parseTraceCsv(`${iso(0)},1\n${iso(30_000)},1`, 'per-step')).toThrow(/whole minutes from 1 to 60/)
    expect(() => parseTraceCsv(`${iso(0)},1\n${iso(7_200_000)},1`, 'per-step')).toThrow(/whole minutes from 1 to 60/)
    expect(() => parseTraceCsv(`${iso(0)},1\n${iso(60_000)},-4`, 'per-step')).toThrow(/line 2: a load cannot be negative/)
    expect(() => parseTraceCsv(`yesterday,1\n${iso(60_000)},1`, 'per-step')).toThrow(TraceError)
    expect(() => parseTraceCsv('timestamp,value\n', 'per-step')).toThrow(/at least two rows/)
  })

  it('writes minute series back as rows the reader reads to the same load', () => {
    const total = Float64Array.from({ length: 120 }, (_, i) => 30 + (i % 30))
    const back = traceFromCsv(seriesToCsv(total, Date.UTC(2025, 0, 6), 1), 'per-step')
    expect(back.series.length).toBe(total.length)
    total.forEach((v, i) => expect(back.series.total[i]).toBeCloseTo(v, 9))
  })
})
