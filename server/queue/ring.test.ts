import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Ring } from './ring.ts'

type Op = { op: 'push' | 'unshift'; value: number } | { op: 'shift' } | { op: 'filterOdd' }

describe('Ring', () => {
  it('behaves like an array under any sequence of push, unshift, shift and filter', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('push' as const), value: fc.integer() }),
      fc.record({ op: fc.constant('unshift' as const), value: fc.integer() }),
      fc.record({ op: fc.constant('shift' as const) }),
      fc.record({ op: fc.constant('filterOdd' as const) }),
    )
    fc.assert(
      fc.property(fc.array(op as fc.Arbitrary<Op>, { maxLength: 300 }), (ops) => {
        const ring = new Ring<number>(2)
        const model: number[] = []
        for (const o of ops) {
          if (o.op === 'push') {
            ring.push(o.value)
            model.push(o.value)
          } else if (o.op === 'unshift') {
            ring.unshift(o.value)
            model.unshift(o.value)
          } else if (o.op === 'shift') {
            expect(ring.shift()).toBe(model.shift())
          } else {
            const removed = ring.filter((v) => v % 2 === 0)
            expect(removed).toEqual(model.filter((v) => v % 2 !== 0))
            model.splice(0, model.length, ...model.filter((v) => v % 2 === 0))
          }
          expect(ring.size).toBe(model.length)
          expect(ring.peek()).toBe(model[0])
        }
        expect([...ring]).toEqual(model)
      }),
    )
  })
})
