import { describe, expect, it } from 'vitest'
import { SkipTally } from './skip-tally.ts'

describe('skip tally', () => {
  it('reports the counts by reason in one message and starts again from zero', () => {
    const t = new SkipTally()
    for (const r of ['unchanged', 'unchanged', 'blur', 'empty', 'unchanged'] as const) t.add(r)
    const sent: object[] = []
    expect(t.flush((c) => (sent.push(c), true))).toBe(true)
    expect(sent).toEqual([{ unchanged: 3, blur: 1, empty: 1 }])
    expect(t.flush((c) => (sent.push(c), true))).toBe(false)
    expect(sent).toHaveLength(1)
    expect(t.total).toEqual({ unchanged: 3, blur: 1, exposure: 0, empty: 1 })
  })

  it('keeps counts the socket refused for the next report', () => {
    const t = new SkipTally()
    t.add('exposure')
    expect(t.flush(() => false)).toBe(false)
    t.add('exposure')
    const sent: object[] = []
    t.flush((c) => (sent.push(c), true))
    expect(sent).toEqual([{ exposure: 2 }])
    expect(t.pending).toEqual({ unchanged: 0, blur: 0, exposure: 0, empty: 0 })
  })

  it('splits a backlog larger than one message allows over several reports', () => {
    const t = new SkipTally()
    for (let i = 0; i < 1_000_003; i++) t.add('unchanged')
    const sent: { unchanged?: number }[] = []
    while (t.flush((c) => (sent.push(c), true)));
    expect(sent.map((c) => c.unchanged)).toEqual([1_000_000, 3])
  })
})
