/**
 * The review queue and reviews: queued from the record, reviews appended beside it (never over
 * it), audited in the same transaction, paged by line and status.
 */
import { describe, expect, it } from 'vitest'
import { allPages, result, T0, useDatabase, type TestDatabaseFactory } from './fixtures.ts'

const box = (x: number): [number, number, number, number] => [x, x, x + 10, x + 10]

export function reviewsContract(factory: TestDatabaseFactory): void {
  describe('reviews', () => {
    const h = useDatabase(factory)

    it('queues a recorded frame once, adding reasons, and refuses a frame with no record', async () => {
      const r = result({ line: 'line-a' })
      await h.store.record(r)
      expect(await h.store.reviews.enqueue(r.frameId, 'near_threshold')).toBe(true)
      expect(await h.store.reviews.enqueue(r.frameId, 'flag', { by: 'station:st-1', note: 'missed scratch' })).toBe(true)
      expect(await h.store.reviews.enqueue('no-such-frame', 'flag')).toBe(false)
      const { items } = await h.store.reviews.list({ line: 'line-a' })
      expect(items).toHaveLength(1)
      expect(items[0]).toMatchObject({ frameId: r.frameId, line: 'line-a', status: 'open', reasons: ['flag', 'near_threshold'], flaggedBy: 'station:st-1', note: 'missed scratch' })
    })

    it('appends reviews without touching the record, audits each, and closes the queue entry', async () => {
      const r = result({ verdict: 'pass', detections: [] })
      await h.store.record(r)
      await h.store.reviews.enqueue(r.frameId, 'flag', { by: 'kiosk:k1' })
      const first = await h.store.reviews.add({ frameId: r.frameId, verdict: 'fail', detections: [{ class: 'scratch', classId: 0, box: box(5) }], reviewer: 'alice' })
      const second = await h.store.reviews.add({ frameId: r.frameId, verdict: 'fail', detections: [{ class: 'dent', classId: 1, box: box(7) }], reviewer: 'bob' })
      expect(second!.id).toBeGreaterThan(first!.id)
      expect(await h.store.get(r.frameId)).toEqual(r)
      expect((await h.store.reviews.history(r.frameId)).map((x) => x.reviewer)).toEqual(['alice', 'bob'])
      const [item] = (await h.store.reviews.list({ status: 'reviewed' })).items
      expect(item).toMatchObject({ frameId: r.frameId, status: 'reviewed', review: { reviewer: 'bob', detections: [{ class: 'dent', classId: 1, box: box(7) }] } })
      expect((await h.store.reviews.list({ status: 'open' })).items).toEqual([])
      const audit = (await h.store.audit.list()).items.filter((e) => e.action === 'review.add')
      expect(audit.map((e) => [e.actor, e.target])).toEqual([
        ['bob', r.frameId],
        ['alice', r.frameId],
      ])
      expect(await h.store.reviews.add({ frameId: 'no-such-frame', verdict: 'pass', detections: [], reviewer: 'x' })).toBeNull()
    })

    it('reopens a reviewed frame when an operator flags it again', async () => {
      const r = result()
      await h.store.record(r)
      await h.store.reviews.add({ frameId: r.frameId, verdict: 'pass', detections: [], reviewer: 'alice' })
      await h.store.reviews.enqueue(r.frameId, 'near_threshold')
      expect((await h.store.reviews.list({})).items[0]?.status).toBe('reviewed')
      await h.store.reviews.enqueue(r.frameId, 'flag', { by: 'station:st-1' })
      expect((await h.store.reviews.list({})).items[0]?.status).toBe('open')
    })

    it('pages the queue by line scope and counts the open backlog per line', async () => {
      const frames = Array.from({ length: 7 }, (_, i) => result({ line: i % 2 ? 'line-b' : 'line-a', capturedAt: T0 + (i % 3) * 1000 }))
      for (const f of frames) {
        await h.store.record(f)
        await h.store.reviews.enqueue(f.frameId, 'shadow')
      }
      await h.store.reviews.add({ frameId: frames[0]!.frameId, verdict: 'pass', detections: [], reviewer: 'alice' })
      const all = await allPages((cursor) => h.store.reviews.list({ limit: 2, ...(cursor ? { cursor } : {}) }))
      expect(all.items.map((i) => i.frameId).sort()).toEqual(frames.map((f) => f.frameId).sort())
      expect(all.pages).toBe(4)
      expect((await h.store.reviews.list({ lines: ['line-b'] })).items.every((i) => i.line === 'line-b')).toBe(true)
      expect((await h.store.reviews.list({ lines: ['line-b'], line: 'line-a' })).items).toEqual([])
      expect(await h.store.reviews.backlog()).toEqual([
        { line: 'line-a', open: 3 },
        { line: 'line-b', open: 3 },
      ])
    })

    it('walks the latest review of each frame in a capture range, oldest first', async () => {
      const frames = Array.from({ length: 5 }, (_, i) => result({ line: 'line-a', capturedAt: T0 + i * 1000 }))
      for (const f of frames) {
        await h.store.record(f)
        await h.store.reviews.add({ frameId: f.frameId, verdict: 'pass', detections: [], reviewer: 'alice' })
      }
      await h.store.reviews.add({ frameId: frames[1]!.frameId, verdict: 'fail', detections: [{ class: 'dent', classId: 1, box: box(1) }], reviewer: 'bob' })
      const page = await allPages((cursor) => h.store.reviews.latestInRange({ line: 'line-a', from: T0 + 1000, to: T0 + 4000, limit: 2, ...(cursor ? { cursor } : {}) }))
      expect(page.items.map((r) => [r.frameId, r.reviewer])).toEqual([
        [frames[1]!.frameId, 'bob'],
        [frames[2]!.frameId, 'alice'],
        [frames[3]!.frameId, 'alice'],
      ])
      expect((await h.store.reviews.latestInRange({ line: 'line-b' })).items).toEqual([])
    })
    it("keeps a candidate's detections beside the record, once per model version, and reads them back with the reviews", async () => {
      const r = result({ line: 'line-a' })
      await h.store.record(r)
      const run = { frameId: r.frameId, model: 'cand', version: '2', line: 'line-a', capturedAt: r.capturedAt, verdict: 'pass' as const, detections: [], agrees: false }
      expect(await h.store.candidates.record(run)).toBe(true)
      expect(await h.store.candidates.record(run)).toBe(false)
      expect(await h.store.candidates.record({ ...run, frameId: 'no-such-frame' })).toBe(false)
      expect(await h.store.candidates.agreement('line-a', 'cand')).toEqual([{ version: '2', frames: 1, agreeing: 0 }])
      expect(await h.store.candidates.reviewed('line-a', 'cand')).toEqual([])
      await h.store.reviews.add({ frameId: r.frameId, verdict: 'fail', detections: [{ class: 'dent', classId: 1, box: box(3) }], reviewer: 'alice' })
      const [seen] = await h.store.candidates.reviewed('line-a', 'cand')
      expect(seen).toEqual({ frameId: r.frameId, current: r, candidate: [], truth: [{ class: 'dent', classId: 1, box: box(3) }] })
      expect((await h.store.candidates.recent('line-a', 'cand')).map((x) => x.current.frameId)).toEqual([r.frameId])
    })
  })
}
