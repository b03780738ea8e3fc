import { describe, expect, it } from 'vitest'
import { Ewma, LatencyEstimates } from './estimates.ts'

describe('latency estimates', () => {
  it('start at the first sample and move a fifth of the way towards each new one', () => {
    const e = new Ewma(0.2)
    expect(e.value).toBeNull()
    e.add(100)
    e.add(200)
    expect(e.value).toBe(120)
  })

  it('let one slow frame move the estimate only a little', () => {
    const e = new Ewma(0.2)
    for (let i = 0; i < 20; i++) e.add(40)
    e.add(1_000)
    expect(e.value).toBeLessThan(250)
  })

  it('ignore samples that are not durations', () => {
    const e = new Ewma()
    e.add(Number.NaN)
    e.add(-5)
    expect(e.value).toBeNull()
  })

  it('count encode and uplink as the station-side cost of the server path, once either is known', () => {
    const l = new LatencyEstimates()
    expect(l.serverOverheadMs()).toBeNull()
    l.encode.add(6)
    expect(l.serverOverheadMs()).toBe(6)
    l.uplink.add(4)
    expect(l.serverOverheadMs()).toBe(10)
  })
})
