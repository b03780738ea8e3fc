import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CreditWindow, totalDropped, type AckStatus } from './credit.ts'

function sendOne(w: CreditWindow, id: string, now = 0): boolean {
  return w.tryReserve(id, undefined, now) && w.markSent(id, now)
}

describe('credit window', () => {
  it('drops and counts frames beyond the credit instead of queueing them', () => {
    const w = new CreditWindow(2)
    expect(w.tryReserve('f1', undefined, 0)).toBe(true)
    expect(w.tryReserve('f2', undefined, 0)).toBe(true)
    expect(w.tryReserve('f3', undefined, 0)).toBe(false)
    expect(w.tryReserve('f4', undefined, 0)).toBe(false)
    expect(w.inFlight).toBe(2)
    expect(w.counts().dropped.credit).toBe(2)
  })

  it('frees the slot of a frame answered busy or rejected at once', () => {
    const w = new CreditWindow(1)
    sendOne(w, 'f1', 1)
    expect(w.tryReserve('f2', undefined, 2)).toBe(false)
    expect(w.ack('f1', 'busy', 3)?.sentAt).toBe(1)
    expect(sendOne(w, 'f2', 4)).toBe(true)
    w.ack('f2', 'rejected', 5)
    expect(w.inFlight).toBe(0)
    const c = w.counts()
    expect([c.sent, c.busy, c.rejected, c.accepted]).toEqual([2, 1, 1, 0])
  })

  it('holds the slot of an accepted frame until its result, as the gateway does', () => {
    const w = new CreditWindow(1)
    sendOne(w, 'f1', 10)
    expect(w.ack('f1', 'accepted', 15)).toMatchObject({ sentAt: 10, ackedAt: 15 })
    expect(w.tryReserve('f2', undefined, 16)).toBe(false)
    expect(w.complete('f1')).toMatchObject({ frameId: 'f1', sentAt: 10, ackedAt: 15 })
    expect(w.tryReserve('f2', undefined, 17)).toBe(true)
    expect(w.counts()).toMatchObject({ accepted: 1, completed: 1 })
  })

  it('ignores an ack for a frame that is not awaiting one', () => {
    const w = new CreditWindow(4)
    expect(w.ack('unknown', 'accepted', 0)).toBeUndefined()
    w.tryReserve('f1', undefined, 0)
    // reserved but not yet sent: an ack cannot be for this frame
    expect(w.ack('f1', 'accepted', 0)).toBeUndefined()
    w.markSent('f1', 1)
    w.ack('f1', 'accepted', 2)
    // a second ack for the same frame does not count twice
    expect(w.ack('f1', 'accepted', 3)).toBeUndefined()
    expect(w.counts().accepted).toBe(1)
    expect(w.inFlight).toBe(1)
  })

  it('refuses to send a frame whose slot vanished when the connection dropped during encoding', () => {
    const w = new CreditWindow(4)
    w.tryReserve('f1', undefined, 0)
    sendOne(w, 'f2', 1)
    w.reset()
    expect(w.markSent('f1', 2)).toBe(false)
    const c = w.counts()
    expect(c.lost).toBe(1)
    expect(c.dropped.offline).toBe(1)
    expect(w.inFlight).toBe(0)
  })

  it('holds sent frames that have a copy when the connection drops, and sends them again first, in the order sent', () => {
    const w = new CreditWindow(4)
    const copy = (id: string) => new TextEncoder().encode(id)
    for (const id of ['a', 'b', 'c', 'd']) w.tryReserve(id, undefined, 0)
    // sent out of reservation order: the order on the wire is what a resend keeps
    w.markSent('b', 1, { copy: copy('b') })
    w.markSent('a', 2, { copy: copy('a') })
    w.markSent('c', 3, { copy: copy('c') })
    w.ack('c', 'accepted', 4)
    w.complete('c')
    w.reset()
    expect(w.held).toBe(2)
    expect(w.counts()).toMatchObject({ lost: 0, dropped: { offline: 1 } })
    // still holding their slots: nothing new gets in ahead of them
    expect(w.inFlight).toBe(2)
    const again = w.resendHeld(10)
    expect(again.map((f) => [f.frameId, new TextDecoder().decode(f.copy)])).toEqual([
      ['b', 'b'],
      ['a', 'a'],
    ])
    expect(w.held).toBe(0)
    expect(w.resendHeld(11)).toEqual([])
    expect(w.counts()).toMatchObject({ sent: 3, resent: 2 })
    // answered on the new connection like any frame
    expect(w.ack('b', 'accepted', 12)).toMatchObject({ sentAt: 10, ackedAt: 12 })
    expect(w.complete('b')).toMatchObject({ frameId: 'b' })
  })

  it('holds no frame that was answered busy or rejected, nor one sent without a copy', () => {
    const w = new CreditWindow(4)
    for (const id of ['busy', 'rejected', 'accepted']) {
      w.tryReserve(id, undefined, 0)
      w.markSent(id, 0, { copy: new Uint8Array([1]) })
    }
    sendOne(w, 'bare', 0)
    w.ack('busy', 'busy', 1)
    w.ack('rejected', 'rejected', 1)
    w.ack('accepted', 'accepted', 1)
    w.reset()
    expect(w.resendHeld(2).map((f) => f.frameId)).toEqual(['accepted'])
    expect(w.counts()).toMatchObject({ busy: 1, rejected: 1, lost: 1, resent: 1 })
  })

  it('sends again only what the new credit allows; the rest wait and keep new frames out', () => {
    const w = new CreditWindow(3)
    for (const id of ['a', 'b', 'c']) {
      w.tryReserve(id, undefined, 0)
      w.markSent(id, 0, { copy: new Uint8Array([1]) })
    }
    w.reset()
    w.setCredit(1)
    expect(w.resendHeld(1).map((f) => f.frameId)).toEqual(['a'])
    expect(w.tryReserve('new', undefined, 1)).toBe(false)
    w.ack('a', 'busy', 2)
    expect(w.resendHeld(2).map((f) => f.frameId)).toEqual(['b'])
    w.ack('b', 'accepted', 3)
    w.complete('b')
    expect(w.resendHeld(3).map((f) => f.frameId)).toEqual(['c'])
    w.complete('c')
    expect(w.tryReserve('new', undefined, 4)).toBe(true)
  })

  it('counts a frame lost once it was sent as often as allowed, so a frame that kills the server is not sent for ever', () => {
    const w = new CreditWindow(1, { maxSends: 2 })
    w.tryReserve('poison', undefined, 0)
    w.markSent('poison', 0, { copy: new Uint8Array([1]) })
    w.reset()
    expect(w.resendHeld(1)).toHaveLength(1)
    w.reset()
    expect(w.held).toBe(0)
    expect(w.resendHeld(2)).toEqual([])
    expect(w.counts()).toMatchObject({ sent: 1, resent: 1, lost: 1 })
    expect(w.inFlight).toBe(0)
  })

  it('lets a held frame wait for a connection as long as it takes, and takes its result if one comes', () => {
    const w = new CreditWindow(2)
    w.tryReserve('f1', undefined, 0)
    w.markSent('f1', 0, { copy: new Uint8Array([1]) })
    w.reset()
    expect(w.expire(60_000, 1_000)).toEqual([])
    expect(w.ack('f1', 'accepted', 60_001)).toBeUndefined()
    expect(w.complete('f1')).toMatchObject({ frameId: 'f1' })
    expect(w.held).toBe(0)
    expect(w.resendHeld(60_002)).toEqual([])
  })

  it('releases a frame whose answer is overdue and counts it lost', () => {
    const w = new CreditWindow(2)
    sendOne(w, 'old', 0)
    w.ack('old', 'accepted', 5)
    sendOne(w, 'new', 900)
    expect(w.expire(1000, 1000)).toEqual(['old'])
    expect(w.inFlight).toBe(1)
    expect(w.counts().lost).toBe(1)
    // its result may still come: it is not matched, and nothing is counted twice
    expect(w.complete('old')).toBeUndefined()
    expect(w.counts().completed).toBe(0)
  })

  it('applies a lowered credit as frames complete, without cancelling frames in flight', () => {
    const w = new CreditWindow(3)
    for (const id of ['a', 'b', 'c']) sendOne(w, id)
    w.setCredit(1)
    expect(w.inFlight).toBe(3)
    w.ack('a', 'busy', 1)
    expect(w.tryReserve('d', undefined, 1)).toBe(false)
    w.ack('b', 'busy', 1)
    w.ack('c', 'accepted', 1)
    w.complete('c')
    expect(w.tryReserve('d', undefined, 1)).toBe(true)
  })

  it('never has more frames in flight than the credit, and accounts for every frame offered', () => {
    type Op =
      | { kind: 'offer' }
      | { kind: 'ack'; pick: number; status: AckStatus }
      | { kind: 'result'; pick: number }
      | { kind: 'credit'; value: number }
      | { kind: 'reset' }
      | { kind: 'resend' }
      | { kind: 'expire' }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant({ kind: 'offer' as const }),
      fc.record({ kind: fc.constant('ack' as const), pick: fc.nat(), status: fc.constantFrom<AckStatus>('accepted', 'busy', 'rejected') }),
      fc.record({ kind: fc.constant('result' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('credit' as const), value: fc.integer({ min: 1, max: 10 }) }),
      fc.constant({ kind: 'reset' as const }),
      fc.constant({ kind: 'resend' as const }),
      fc.constant({ kind: 'expire' as const }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(op, { maxLength: 300 }), (credit, ops) => {
        const w = new CreditWindow(credit)
        let offered = 0
        let now = 0
        const sent: string[] = []
        for (const o of ops) {
          now += 10
          if (o.kind === 'offer') {
            const id = `f${offered++}`
            const before = w.inFlight
            if (w.tryReserve(id, undefined, now)) {
              // the slot was free under the credit in force when the frame was offered
              expect(before).toBeLessThan(w.credit)
              // every other frame keeps a copy, to be held over a reset
              w.markSent(id, now, offered % 2 === 0 ? { copy: new Uint8Array([offered]) } : {})
              sent.push(id)
            } else {
              expect(before).toBeGreaterThanOrEqual(w.credit)
            }
          } else if (o.kind === 'ack' && sent.length > 0) {
            w.ack(sent[o.pick % sent.length]!, o.status, now)
          } else if (o.kind === 'result' && sent.length > 0) {
            w.complete(sent[o.pick % sent.length]!)
          } else if (o.kind === 'credit') {
            w.setCredit(o.value)
          } else if (o.kind === 'reset') {
            w.reset()
          } else if (o.kind === 'resend') {
            const live = w.inFlight - w.held
            const again = w.resendHeld(now)
            // a resend never takes more than the credit leaves
            expect(again.length).toBeLessThanOrEqual(Math.max(0, w.credit - live))
          } else if (o.kind === 'expire') {
            w.expire(now, 50)
          }
        }
        const c = w.counts()
        // every frame offered is in flight (or held), answered, lost or dropped: none vanishes uncounted
        expect(c.busy + c.rejected + c.completed + c.lost + totalDropped(c) + w.inFlight).toBe(offered)
      }),
    )
  })
})
