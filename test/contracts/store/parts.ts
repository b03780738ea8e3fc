/**
 * Part records: written whole as the tracker updates them, read back by id, paged newest first,
 * counted per hour for the kiosk.
 */
import { describe, expect, it } from 'vitest'
import type { PartRecord } from '../../../shared/domain/part.ts'
import { allPages, T0, useDatabase, type TestDatabaseFactory } from './fixtures.ts'

const part = (over: Partial<PartRecord> = {}): PartRecord => ({
  partId: 'SN-0001/A#1',
  line: 'line-a',
  station: 'st-1',
  verdict: 'pass',
  frames: ['f1', 'f2'],
  defects: [],
  openedAt: T0,
  closedAt: T0 + 800,
  closedBy: 'burst',
  idSource: 'trigger',
  ...over,
})

export function partsContract(factory: TestDatabaseFactory): void {
  describe('parts', () => {
    const h = useDatabase(factory)

    it('keeps a part as written and replaces it when it changes', async () => {
      const open = part({ verdict: null, frames: [], closedAt: null, closedBy: null })
      await h.store.parts.put(open)
      expect(await h.store.parts.get('line-a', open.partId)).toEqual(open)
      const failed = part({ verdict: 'fail', defects: [{ classId: 0, class: 'scratch', score: 0.8, box: [1, 2, 3, 4], frameId: 'f2' }] })
      await h.store.parts.put(failed)
      expect(await h.store.parts.get('line-a', open.partId)).toEqual(failed)
      expect(await h.store.parts.get('line-b', open.partId)).toBeNull()
    })

    it('refuses a record that is not a part', async () => {
      await expect(h.store.parts.put(part({ partId: 'has space' }))).rejects.toMatchObject({ code: 'invalid' })
    })

    it('pages newest first without gaps or repeats, filtered by line, verdict and time', async () => {
      const all: PartRecord[] = []
      for (let i = 0; i < 25; i++) {
        // pairs share an openedAt: the part id breaks the tie
        const p = part({ partId: `P-${String(i).padStart(2, '0')}`, openedAt: T0 + Math.floor(i / 2) * 1000, verdict: i % 3 ? 'pass' : 'fail', line: i % 5 ? 'line-a' : 'line-b' })
        all.push(p)
        await h.store.parts.put(p)
      }
      const expected = all.filter((p) => p.line === 'line-a').sort((a, b) => b.openedAt - a.openedAt || (a.partId < b.partId ? 1 : -1))
      const { items, pages } = await allPages((cursor) => h.store.parts.query({ line: 'line-a', limit: 4, ...(cursor ? { cursor } : {}) }))
      expect(items.map((p) => p.partId)).toEqual(expected.map((p) => p.partId))
      expect(pages).toBe(Math.ceil(expected.length / 4))
      const failed = await h.store.parts.query({ line: 'line-a', verdict: 'fail' })
      expect(failed.items.map((p) => p.partId)).toEqual(expected.filter((p) => p.verdict === 'fail').map((p) => p.partId))
      const window = await h.store.parts.query({ line: 'line-a', from: T0 + 2000, to: T0 + 4000 })
      expect(window.items.every((p) => p.openedAt >= T0 + 2000 && p.openedAt < T0 + 4000)).toBe(true)
      expect(window.items.length).toBe(expected.filter((p) => p.openedAt >= T0 + 2000 && p.openedAt < T0 + 4000).length)
      expect((await h.store.parts.query({ line: 'line-a', lines: ['line-b'] })).items).toEqual([])
    })

    it('counts closed parts per hour and station by verdict, leaving open ones out', async () => {
      await h.store.parts.put(part({ partId: 'a', verdict: 'pass' }))
      await h.store.parts.put(part({ partId: 'b', verdict: 'fail' }))
      await h.store.parts.put(part({ partId: 'c', verdict: 'fail', openedAt: T0 + 3_600_000 + 5 }))
      await h.store.parts.put(part({ partId: 'd', verdict: 'pass', closedAt: null, closedBy: null }))
      await h.store.parts.put(part({ partId: 'e', verdict: 'pass', station: 'st-2' }))
      expect(await h.store.parts.countsByHour({ line: 'line-a' })).toEqual([
        { hour: T0, line: 'line-a', station: 'st-1', pass: 1, fail: 1 },
        { hour: T0, line: 'line-a', station: 'st-2', pass: 1, fail: 0 },
        { hour: T0 + 3_600_000, line: 'line-a', station: 'st-1', pass: 0, fail: 1 },
      ])
    })

    it('drops parts with the results retention cut', async () => {
      await h.store.parts.put(part({ partId: 'old', openedAt: T0 }))
      await h.store.parts.put(part({ partId: 'new', openedAt: T0 + 10_000 }))
      await h.store.deleteBefore(T0 + 5_000)
      expect(await h.store.parts.get('line-a', 'old')).toBeNull()
      expect(await h.store.parts.get('line-a', 'new')).not.toBeNull()
    })
  })
}
