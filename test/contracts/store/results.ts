/**
 * Recording and querying results: idempotency, every filter, keyset pages, counts.
 */
import { describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../../shared/domain/result.ts'
import { StorageError } from '../../../server/storage/errors.ts'
import type { ResultQuery } from '../../../server/storage/types.ts'
import { allPages, dataset, newestFirst, result, T0, useDatabase, type TestDatabaseFactory } from './fixtures.ts'

const ids = (rs: readonly InspectionResult[]) => rs.map((r) => r.frameId)

export function resultsContract(factory: TestDatabaseFactory): void {
  describe('results', () => {
    const h = useDatabase(factory)

    it('records a result once and returns it by frame id', async () => {
      const r = result({ jobId: 'job-7', source: 'upload', width: 640, height: 480, capturedAt: T0 + 0.5 })
      expect(await h.store.record(r)).toBe(true)
      expect(await h.store.get(r.frameId)).toEqual(r)
      expect(await h.store.get('no-such-frame')).toBeNull()
    })

    it('keeps the first record when the same frame is recorded again', async () => {
      const first = result({ detections: [{ classId: 0, class: 'scratch', score: 0.8, box: [0, 0, 5, 5] }] })
      const replay = { ...first, detections: [], verdict: 'pass' as const, ep: 'webgpu' }
      expect(await h.store.record(first)).toBe(true)
      expect(await h.store.record(replay)).toBe(false)
      expect(await h.store.get(first.frameId)).toEqual(first)
      expect((await h.store.query({})).items).toHaveLength(1)
      expect(await h.store.countsByClass({})).toEqual([{ line: first.line, class: 'scratch', count: 1 }])
    })

    it('makes one record of concurrent duplicate inserts, also from two stores', async () => {
      const other = await h.another()
      const r = result({ detections: [{ classId: 1, class: 'dent', score: 0.7, box: [0, 0, 1, 1] }, { classId: 1, class: 'dent', score: 0.6, box: [2, 2, 3, 3] }] })
      const outcomes = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? other : h.store).record({ ...r })))
      expect(outcomes.filter(Boolean)).toHaveLength(1)
      expect((await h.store.query({})).items).toEqual([r])
      expect(await h.store.countsByClass({})).toEqual([{ line: r.line, class: 'dent', count: 2 }])
    })

    it('rejects something that is not an inspection result', async () => {
      const bad = { ...result(), capturedAt: Number.NaN }
      await expect(h.store.record(bad)).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.record({ ...result(), frameId: '../etc/passwd' })).rejects.toBeInstanceOf(StorageError)
    })

    it('still refuses the keys a server-built result is filed under when they are not ids', async () => {
      for (const bad of [{ frameId: '../etc/passwd' }, { line: 'a b' }, { station: '' }, { capturedAt: Number.POSITIVE_INFINITY }]) {
        await expect(h.store.record({ ...result(), ...bad }, undefined, { builtByServer: true })).rejects.toMatchObject({ code: 'invalid' })
      }
      const r = result()
      expect(await h.store.record(r, undefined, { builtByServer: true })).toBe(true)
      expect(await h.store.get(r.frameId)).toEqual(r)
    })

    describe('filters', () => {
      const data = dataset(120, 7)
      const cases: [string, ResultQuery, (r: InspectionResult) => boolean][] = [
        ['line', { line: 'line-b' }, (r) => r.line === 'line-b'],
        ['lines', { lines: ['line-a', 'line-c'] }, (r) => r.line === 'line-a' || r.line === 'line-c'],
        ['line within lines', { line: 'line-c', lines: ['line-a', 'line-c'] }, (r) => r.line === 'line-c'],
        ['line outside lines', { line: 'line-b', lines: ['line-a'] }, () => false],
        ['an empty scope', { lines: [] }, () => false],
        ['station', { station: 'st-2' }, (r) => r.station === 'st-2'],
        ['from (inclusive)', { from: T0 + 120 * 60_000 }, (r) => r.capturedAt >= T0 + 120 * 60_000],
        ['to (exclusive)', { to: T0 + 60 * 60_000 }, (r) => r.capturedAt < T0 + 60 * 60_000],
        ['time range', { from: T0 + 30 * 60_000, to: T0 + 90 * 60_000 }, (r) => r.capturedAt >= T0 + 30 * 60_000 && r.capturedAt < T0 + 90 * 60_000],
        ['class', { class: 'dent' }, (r) => r.detections.some((d) => d.class === 'dent')],
        ['verdict', { verdict: 'fail' }, (r) => r.verdict === 'fail'],
        ['job', { jobId: 'job-1' }, (r) => r.jobId === 'job-1'],
        ['everything at once', { lines: ['line-a', 'line-b'], station: 'st-1', verdict: 'fail', class: 'scratch', from: T0 + 10 * 60_000, to: T0 + 300 * 60_000 }, (r) =>
          (r.line === 'line-a' || r.line === 'line-b') && r.station === 'st-1' && r.verdict === 'fail' && r.detections.some((d) => d.class === 'scratch') && r.capturedAt >= T0 + 10 * 60_000 && r.capturedAt < T0 + 300 * 60_000],
      ]
      for (const [name, q, keep] of cases) {
        it(`filters by ${name}`, async () => {
          for (const r of data) await h.store.record(r)
          const expected = data.filter(keep).sort(newestFirst)
          const { items } = await allPages((cursor) => h.store.query({ ...q, limit: 25, ...(cursor ? { cursor } : {}) }))
          expect(ids(items)).toEqual(ids(expected))
        })
      }
      it('has data that every filter case actually narrows', () => {
        // guards the cases above against passing vacuously
        for (const [name, , keep] of cases.filter(([n]) => !n.includes('outside') && !n.includes('empty'))) {
          const n = data.filter(keep).length
          expect(n, name).toBeGreaterThan(0)
          expect(n, name).toBeLessThan(data.length)
        }
      })
    })

    describe('pages', () => {
      it('pages newest first without duplicates or gaps, ties broken by frame id', async () => {
        const data = dataset(157, 3)
        for (const r of data) await h.store.record(r)
        const { items, pages } = await allPages((cursor) => h.store.query({ limit: 10, ...(cursor ? { cursor } : {}) }))
        expect(pages).toBe(16)
        expect(ids(items)).toEqual(ids([...data].sort(newestFirst)))
      })

      it('keeps later pages stable while results arrive between pages', async () => {
        const data = dataset(90, 11)
        for (const r of data) await h.store.record(r)
        const seen: InspectionResult[] = []
        let cursor: string | undefined
        let arrivals = 0
        do {
          const page = await h.store.query({ limit: 8, ...(cursor ? { cursor } : {}) })
          seen.push(...page.items)
          cursor = page.nextCursor
          // newer frames (the live line) and one late upload from the middle of the range
          await h.store.record(result({ capturedAt: T0 + 400 * 60_000 + arrivals }))
          await h.store.record(result({ frameId: `late-${arrivals}`, capturedAt: T0 + 180 * 60_000 }))
          arrivals++
        } while (cursor)
        const seenIds = ids(seen)
        expect(new Set(seenIds).size).toBe(seenIds.length)
        // every result that existed before the first page was read is on exactly one page
        expect(seenIds.filter((id) => id.startsWith('ds11-'))).toEqual(ids([...data].sort(newestFirst)))
        expect([...seen].sort(newestFirst)).toEqual(seen)
      })

      it('ends without a cursor on the last page', async () => {
        for (const r of dataset(5, 5)) await h.store.record(r)
        expect((await h.store.query({ limit: 5 })).nextCursor).toBeUndefined()
        const first = await h.store.query({ limit: 4 })
        expect(first.nextCursor).toBeTypeOf('string')
        const last = await h.store.query({ limit: 4, cursor: first.nextCursor! })
        expect(last.items).toHaveLength(1)
        expect(last.nextCursor).toBeUndefined()
      })

      it('caps the page size at 1000 and rejects a non-positive one', async () => {
        for (const r of dataset(3, 9)) await h.store.record(r)
        expect((await h.store.query({ limit: 5000 })).items).toHaveLength(3)
        await expect(h.store.query({ limit: 0 })).rejects.toMatchObject({ code: 'invalid' })
        await expect(h.store.query({ limit: 2.5 })).rejects.toMatchObject({ code: 'invalid' })
      })

      it('rejects a cursor it did not issue', async () => {
        for (const cursor of ['garbage', Buffer.from('[1,2]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
          await expect(h.store.query({ cursor })).rejects.toMatchObject({ code: 'bad_cursor' })
        }
      })
    })

    describe('counts', () => {
      it('counts pass and fail per hour and line', async () => {
        const data = dataset(200, 21)
        for (const r of data) await h.store.record(r)
        const q = { lines: ['line-a', 'line-b'], from: T0 + 30 * 60_000, to: T0 + 330 * 60_000 }
        const expected = new Map<string, { hour: number; line: string; pass: number; fail: number }>()
        for (const r of data) {
          if (!q.lines.includes(r.line) || r.capturedAt < q.from || r.capturedAt >= q.to) continue
          const hour = Math.floor(r.capturedAt / 3_600_000) * 3_600_000
          const e = expected.get(`${hour}/${r.line}`) ?? { hour, line: r.line, pass: 0, fail: 0 }
          e[r.verdict]++
          expected.set(`${hour}/${r.line}`, e)
        }
        const want = [...expected.values()].sort((a, b) => a.hour - b.hour || (a.line < b.line ? -1 : 1))
        expect(want.length).toBeGreaterThan(6)
        expect(await h.store.countsByHour(q)).toEqual(want)
        expect(await h.store.countsByHour({ lines: [] })).toEqual([])
      })

      it('counts detections per class and line', async () => {
        const data = dataset(200, 22)
        for (const r of data) await h.store.record(r)
        const q = { line: 'line-c', from: T0 + 60 * 60_000 }
        const expected = new Map<string, number>()
        for (const r of data) {
          if (r.line !== q.line || r.capturedAt < q.from) continue
          for (const d of r.detections) expected.set(d.class, (expected.get(d.class) ?? 0) + 1)
        }
        const want = [...expected].map(([cls, count]) => ({ line: 'line-c', class: cls, count })).sort((a, b) => b.count - a.count || (a.class < b.class ? -1 : 1))
        expect(want.length).toBe(4)
        expect(await h.store.countsByClass(q)).toEqual(want)
      })
    })
  })
}
