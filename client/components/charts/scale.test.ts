import { describe, expect, it } from 'vitest'
import { linePath, linear, niceTicks, yDomain } from './scale.ts'

describe('chart scales', () => {
  it('maps a domain onto a range, flipped for y', () => {
    const y = linear({ min: 0, max: 10 }, 100, 0)
    expect(y(0)).toBe(100)
    expect(y(10)).toBe(0)
    expect(y(2.5)).toBe(75)
  })

  it('picks round ticks', () => {
    expect(niceTicks(0, 10)).toEqual([0, 5, 10])
    expect(niceTicks(0, 7, 4)).toEqual([0, 2, 4, 6])
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3])
  })

  it('starts at zero and ends on a round value above the data', () => {
    expect(yDomain([3, null, 7.2])).toEqual({ min: 0, max: 8 })
    expect(yDomain([])).toEqual({ min: 0, max: 1 })
  })

  it('breaks the line where data is missing', () => {
    const id = (v: number) => v
    expect(linePath([[0, 1], [1, 2], [2, null], [3, 4], [4, 5]], id, id)).toBe('M0,1L1,2M3,4L4,5')
    expect(linePath([[0, 1], [2, 3]], id, id, true)).toBe('M0,1H2V3')
    expect(linePath([[0, null]], id, id)).toBe('')
  })
})
