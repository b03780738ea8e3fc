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
  it('claims exactly the burst\'s frames after a trigger, keeps them all, and ends the part once they settled', async () => {
    const { a, ends } = assembler({ mode: 'trigger', burstFrames: 2 })
    expect(a.claimForBurst('f0')).toBe(false)
    a.trigger('PLC-1')
    expect(a.current).toBe('PLC-1')
    expect(a.claimForBurst('f1')).toBe(true)
    expect(a.claimForBurst('f2')).toBe(true)
    expect(a.claimForBurst('f3')).toBe(false)
    expect(a.wantsCode('f1')).toBe(false)
    const placed = [a.place('f1', 0.01), a.place('f2', 0.02)]
    expect(await Promise.all(placed)).toEqual(['PLC-1', 'PLC-1'])
    a.settle('f1', true)
    expect(ends).toEqual([])
    a.settle('f2', false)
    expect(ends).toEqual([{ partId: 'PLC-1', frames: ['f1'], reason: 'burst', idSource: 'trigger' }])
  })

  it('names a part triggered without an id by the first code read in its frames, else the station\'s sequence', async () => {
    const { a, ends } = assembler({ mode: 'trigger', burstFrames: 2 })
    a.trigger()
    a.claimForBurst('f1')
    a.claimForBurst('f2')
    expect(a.wantsCode('f1')).toBe(true)
    a.offerCode('f1', null)
    a.offerCode('f2', 'has space') // not a part id: ignored
    a.offerCode('f2', 'SN-9')
    expect(a.wantsCode('f2')).toBe(false)
    expect(await Promise.all([a.place('f1'), a.place('f2')])).toEqual(['SN-9', 'SN-9'])
    a.settle('f1', true)
    a.settle('f2', true)
    a.trigger()
    a.claimForBurst('g1')
    a.claimForBurst('g2')
    a.settle('g1', false) // dropped before it was placed
    const id = await a.place('g2')
    expect(id).toMatch(/^S1-/)
    a.settle('g2', true)
    expect(ends).toEqual([
      { partId: 'SN-9', frames: ['f1', 'f2'], reason: 'burst', idSource: 'barcode' },
      { partId: id, frames: ['g2'], reason: 'burst', idSource: 'sequence' },
    ])
  })

  it('opens a part when a part is present, inspects the sharpest usable frames of the passage once it has left', async () => {
    const { a, ends } = assembler({ mode: 'presence', presenceFrames: 2 })
    expect(a.observePresence('e1', 0.1, 0.5, true)).toBe(false)
    expect(a.observePresence('p1', 0.9, 0.5, false)).toBe(false)
    expect(a.open).toBe(true)
    const placed: Record<string, Promise<string | null>> = {}
    for (const [f, sharpness] of [['p2', 0.01], ['p3', 0.04], ['p4', 0.02], ['p5', 0.04]] as const) {
      expect(a.observePresence(f, 0.9, 0.5, true)).toBe(true)
      placed[f] = a.place(f, sharpness)
    }
    // the least sharp ones are let go as soon as sharper ones came
    expect(await placed.p2).toBeNull()
    expect(await placed.p4).toBeNull()
    for (let i = 0; i < PRESENCE_EXIT_FRAMES - 1; i++) expect(a.observePresence(`g${i}`, 0.1, 0.5, true)).toBe(false)
    expect(a.open).toBe(true)
    a.observePresence('gone', 0.1, 0.5, true)
    expect(a.open).toBe(false)
    const partId = await placed.p3
    expect(partId).toMatch(/^S1-/)
    expect(await placed.p5).toBe(partId)
    a.settle('p2', false)
    a.settle('p3', true)
    expect(ends).toEqual([])
    a.settle('p5', true)
    expect(ends).toEqual([{ partId, frames: ['p3', 'p5'], reason: 'passage', idSource: 'sequence' }])
    // the next part is another part
    a.observePresence('q1', 0.9, 0.5, true)
    expect(a.open).toBe(true)
  })

  it('waits for a frame still being read before it chooses, and a new passage does not wait for the old one\'s frames', async () => {
    const { a, ends } = assembler({ mode: 'presence', presenceFrames: 3 })
    a.observePresence('p1', 0.9, 0.5, true)
    a.observePresence('p2', 0.9, 0.5, true)
    const first = a.place('p1', 0.02)
    a.observePresence('g1', 0.1, 0.5, true)
    a.observePresence('g2', 0.1, 0.5, true)
    // p2 is still in the code reader: nothing chosen yet
    let chosen = false
    void first.then(() => (chosen = true))
    await Promise.resolve()
    expect(chosen).toBe(false)
    a.offerCode('p2', 'LS-1')
    const second = a.place('p2', 0.01)
    expect(await first).toBe('LS-1')
    expect(await second).toBe('LS-1')
    a.observePresence('q1', 0.9, 0.5, true)
    a.settle('p1', true)
    a.settle('p2', true)
    expect(ends).toEqual([{ partId: 'LS-1', frames: ['p1', 'p2'], reason: 'passage', idSource: 'barcode' }])
  })
})

describe('part assembler when the station changes', () => {
  it('ends an open passage with the frames it has when the mode changes, so none waits forever', async () => {
    const settings = { ...DEFAULT_INSPECTION, mode: 'presence' as InspectionSettings['mode'], presenceFrames: 3 }
    const ends: Omit<PartEndMessage, 'type'>[] = []
    const a = new PartAssembler({ station: 'S1', view: () => stationInspection(settings, 'S1'), onEnd: (e) => ends.push(e) })
    a.observePresence('p1', 0.9, 0.5, true)
    const placed = a.place('p1', 0.02)
    a.followMode()
    expect(a.open).toBe(true)
    settings.mode = 'continuous'
    a.followMode()
    const id = await placed
    expect(id).toMatch(/^S1-/)
    a.settle('p1', true)
    expect(ends).toEqual([{ partId: id, frames: ['p1'], reason: 'passage', idSource: 'sequence' }])
  })
})
