import { describe, expect, test } from 'vitest'
import { RestartLimiter, Watchdog } from './watchdog.ts'

describe('Watchdog', () => {
  test('reports only workers busy longer than the limit', () => {
    let now = 1000
    const workers = [
      { id: 1, busySince: 0, busyWith: 'a' },
      { id: 2, busySince: 500, busyWith: 'b' },
      { id: 3, busySince: undefined, busyWith: '' },
    ]
    const stuck: number[] = []
    const w = new Watchdog(600, () => workers, (x) => stuck.push(x.id), () => now)
    expect(w.check()).toBe(1)
    expect(stuck).toEqual([1])
    now = 1200
    w.check()
    expect(stuck).toEqual([1, 1, 2])
  })
})

describe('RestartLimiter', () => {
  test('lets the budget through at once, then doubles the wait up to the ceiling', () => {
    const now = 0
    const l = new RestartLimiter({ maxPerWindow: 2, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 4000 }, () => now)
    expect([l.next(), l.next()]).toEqual([0, 0])
    expect([l.next(), l.next(), l.next(), l.next()]).toEqual([1000, 2000, 4000, 4000])
  })

  test('a quiet minute restores the budget', () => {
    let now = 0
    const l = new RestartLimiter({ maxPerWindow: 1, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 60_000 }, () => now)
    expect(l.next()).toBe(0)
    expect(l.next()).toBe(1000)
    now += 61_001
    expect(l.next()).toBe(0)
  })
})
