import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Backoff, backoffCeiling, backoffDelay } from './backoff.ts'

const policy = { baseMs: 500, maxMs: 30_000 }

describe('reconnect backoff', () => {
  it('doubles the ceiling after every failed try until it reaches the maximum', () => {
    const ceilings = Array.from({ length: 9 }, (_, i) => backoffCeiling(i, policy))
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  })

  it('never waits longer than the maximum, however many tries failed', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, policy, () => r)
        expect(d).toBeGreaterThanOrEqual(0)
        expect(d).toBeLessThan(policy.maxMs)
      }),
    )
  })

  it('spreads delays over the whole window (full jitter), not around the ceiling', () => {
    expect(backoffDelay(4, policy, () => 0)).toBe(0)
    expect(backoffDelay(4, policy, () => 0.5)).toBe(4000)
    expect(backoffDelay(4, policy, () => 0.999999)).toBe(7999)
  })

  it('starts again from the first ceiling after a reset', () => {
    const b = new Backoff(policy, () => 0.999999)
    const first = [b.next(), b.next(), b.next()]
    expect(first).toEqual([499, 999, 1999])
    expect(b.attempt).toBe(3)
    b.reset()
    expect(b.attempt).toBe(0)
    expect(b.next()).toBe(499)
  })

  it('treats a negative or non-finite attempt as the first try', () => {
    expect(backoffCeiling(-3, policy)).toBe(500)
    expect(backoffCeiling(Number.NaN, policy)).toBe(500)
  })
})
