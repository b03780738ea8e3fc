import { describe, expect, it } from 'vitest'
import { DEFAULT_INSPECTION, stationInspection, type InspectionSettings } from '../../shared/domain/inspection.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'
import { PartAssembler, PRESENCE_EXIT_FRAMES } from './part-assembler.ts'

function assembler(over: Partial<InspectionSettings>) {
  const ends: Omit<PartEndMessage, 'type'>[] = []
  const settings = { ...DEFAULT_INSPECTION, ...over }
  let now = 1_000
  const a = new PartAssembler({ station: 'S1', view: () => stationInspection(settings, 'S1'), onEnd: (e) => ends.push(e), now: () => now++ })
  return { a, ends }
}

describe('part assembler', () => {
  it('claims exactly the burst\'s frames after a trigger and ends the part once they settled', () => {
    const { a, ends } = assembler({ mode: 'trigger', burstFrames: 2 })
    expect(a.claimForBurst('f0')).toBeNull()
    expect(a.trigger('PLC-1')).toBe('PLC-1')
    expect(a.claimForBurst('f1')).toBe('PLC-1')
    expect(a.claimForBurst('f2')).toBe('PLC-1')
    expect(a.claimForBurst('f3')).toBeNull()
    a.settle('f1', true)
    expect(ends).toEqual([])
    a.settle('f2', false)
    expect(ends).toEqual([{ partId: 'PLC-1', frames: ['f1'], reason: 'burst', idSource: 'trigger' }])
  })

  it('names a part triggered without an id from the station\'s sequence, a new id each time', () => {
    const { a } = assembler({ mode: 'trigger' })
    const first = a.trigger()
    const second = a.trigger()
    expect(first).toMatch(/^S1-/)
    expect(second).not.toBe(first)
  })

  it('opens a part when a part is present, inspects its first usable frames, and ends it when the part has left', () => {
    const { a, ends } = assembler({ mode: 'presence', presenceFrames: 2 })
    expect(a.observePresence('e1', 0.1, 0.5, true)).toBeNull()
    const id = a.observePresence('p1', 0.9, 0.5, false)
    expect(id).toBeNull()
    const partId = a.current!
    expect(a.observePresence('p2', 0.9, 0.5, true)).toBe(partId)
    expect(a.observePresence('p3', 0.8, 0.5, true)).toBe(partId)
    expect(a.observePresence('p4', 0.8, 0.5, true)).toBeNull()
    a.settle('p2', true)
    a.settle('p3', true)
    for (let i = 0; i < PRESENCE_EXIT_FRAMES - 1; i++) expect(a.observePresence(`g${i}`, 0.1, 0.5, true)).toBeNull()
    expect(ends).toEqual([])
    a.observePresence('gone', 0.1, 0.5, true)
    expect(ends).toEqual([{ partId, frames: ['p2', 'p3'], reason: 'passage', idSource: 'sequence' }])
    // the next part is another part
    a.observePresence('q1', 0.9, 0.5, true)
    expect(a.current).not.toBe(partId)
  })
})
