/**
 * Load history (upsert-add from several processes) and upload jobs (atomic counters).
 */
import { describe, expect, it } from 'vitest'
import { MINUTE_MS, type LoadSampleInput } from '../../../server/storage/load-history.ts'
import { allPages, T0, useDatabase, type TestDatabaseFactory } from './fixtures.ts'

const sample = (over: Partial<LoadSampleInput>): LoadSampleInput => ({ minute: T0, line: 'line-a', frames: 0, skipped: 0, browserFrames: 0, queueDepthMax: 0, workers: 0, p95Ms: 0, ...over })

export function loadAndJobsContract(factory: TestDatabaseFactory): void {
  describe('load history', () => {
    const h = useDatabase(factory)

    it('adds counters and keeps the largest gauges within a minute; sums workers across processes', async () => {
      const lh = h.store.loadHistory
      await lh.add(sample({ source: 'gw-1', minute: T0 + 5_000, frames: 100, skipped: 10, browserFrames: 5, queueDepthMax: 7, workers: 2, p95Ms: 80 }))
      await lh.add(sample({ source: 'gw-1', minute: T0 + 59_999, frames: 50, skipped: 1, browserFrames: 0, queueDepthMax: 3, workers: 3, p95Ms: 120.5 }))
      await lh.add(sample({ source: 'gw-2', minute: T0 + 30_000, frames: 25, skipped: 4, browserFrames: 2, queueDepthMax: 9, workers: 1, p95Ms: 60 }))
      await lh.add(sample({ source: 'gw-1', minute: T0 + MINUTE_MS, frames: 1 }))
      await lh.add(sample({ source: 'gw-1', minute: T0, line: 'line-b', frames: 9 }))
      expect(await lh.range(T0, T0 + 2 * MINUTE_MS, 'line-a')).toEqual([
        { minute: T0, line: 'line-a', frames: 175, skipped: 15, browserFrames: 7, queueDepthMax: 9, workers: 4, p95Ms: 120.5 },
        { minute: T0 + MINUTE_MS, line: 'line-a', frames: 1, skipped: 0, browserFrames: 0, queueDepthMax: 0, workers: 0, p95Ms: 0 },
      ])
      expect((await lh.range(T0, T0 + MINUTE_MS)).map((s) => [s.line, s.frames])).toEqual([
        ['line-a', 175],
        ['line-b', 9],
      ])
      expect(await lh.range(T0 + MINUTE_MS, T0 + 2 * MINUTE_MS, 'line-b')).toEqual([])
    })

    it('loses no count when processes add into one minute at once', async () => {
      const other = await h.another()
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : h.store).loadHistory.add(sample({ source: `gw-${i % 3}`, frames: i, queueDepthMax: i }))))
      const [s] = await h.store.loadHistory.range(T0, T0 + MINUTE_MS)
      expect(s?.frames).toBe((39 * 40) / 2)
      expect(s?.queueDepthMax).toBe(39)
    })

    it('rejects negative counts and bad lines', async () => {
      await expect(h.store.loadHistory.add(sample({ frames: -1 }))).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.loadHistory.add(sample({ line: 'no spaces' }))).rejects.toMatchObject({ code: 'invalid' })
    })

    it('drops minutes before a cut', async () => {
      await h.store.loadHistory.add(sample({ minute: T0, frames: 1 }))
      await h.store.loadHistory.add(sample({ minute: T0 + MINUTE_MS, frames: 2 }))
      expect(await h.store.loadHistory.deleteBefore(T0 + MINUTE_MS)).toBe(1)
      expect((await h.store.loadHistory.range(0, T0 + 10 * MINUTE_MS)).map((s) => s.frames)).toEqual([2])
    })
  })

  describe('jobs', () => {
    const h = useDatabase(factory)

    it('runs a job from queued to done as frames are reported', async () => {
      const job = await h.store.jobs.create({ line: 'line-a', total: 3, createdBy: 'alice' })
      expect(job).toMatchObject({ line: 'line-a', status: 'queued', total: 3, done: 0, failed: 0, createdBy: 'alice' })
      expect(job.finishedAt).toBeUndefined()
      expect(await h.store.jobs.progress(job.id, { done: 1 })).toMatchObject({ status: 'running', done: 1, failed: 0 })
      expect((await h.store.jobs.get(job.id))?.finishedAt).toBeUndefined()
      const finished = await h.store.jobs.progress(job.id, { done: 1, failed: 1 })
      expect(finished).toMatchObject({ status: 'done', done: 2, failed: 1 })
      expect(finished?.finishedAt).toBeGreaterThanOrEqual(job.createdAt)
      expect(await h.store.jobs.get(job.id)).toEqual(finished)
      expect(await h.store.jobs.progress('job-missing', { done: 1 })).toBeNull()
    })

    it('counts every report when processes report at once', async () => {
      const other = await h.another()
      const job = await h.store.jobs.create({ id: 'job-many', line: 'line-a', total: 60, createdBy: 'x' })
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? other : h.store).jobs.progress(job.id, i % 5 ? { done: 1 } : { failed: 1 })))
      expect(await h.store.jobs.get(job.id)).toMatchObject({ status: 'done', done: 48, failed: 12 })
    })

    it('fails a job as a whole and keeps it failed', async () => {
      const job = await h.store.jobs.create({ line: 'line-a', total: 2, createdBy: 'x' })
      expect(await h.store.jobs.fail(job.id, 'not a zip file')).toMatchObject({ status: 'failed', error: 'not a zip file' })
      expect(await h.store.jobs.progress(job.id, { done: 2 })).toMatchObject({ status: 'failed', done: 2 })
    })

    it('refuses a job id that exists and invalid counts', async () => {
      await h.store.jobs.create({ id: 'job-1', line: 'line-a', total: 1, createdBy: 'x' })
      await expect(h.store.jobs.create({ id: 'job-1', line: 'line-b', total: 1, createdBy: 'x' })).rejects.toMatchObject({ code: 'conflict' })
      await expect(h.store.jobs.create({ line: 'line-a', total: -1, createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.jobs.progress('job-1', { done: 0.5 })).rejects.toMatchObject({ code: 'invalid' })
    })

    it('lists jobs newest first, by line and status, page by page', async () => {
      const made = []
      for (let i = 0; i < 12; i++) made.push(await h.store.jobs.create({ id: `job-${String(i).padStart(2, '0')}`, line: i % 3 ? 'line-a' : 'line-b', total: 1, createdBy: 'x' }))
      await h.store.jobs.progress('job-04', { done: 1 })
      const newest = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)
      const all = await allPages((cursor) => h.store.jobs.list({ limit: 5, ...(cursor ? { cursor } : {}) }))
      expect(all.items.map((j) => j.id)).toEqual([...made].sort(newest).map((j) => j.id))
      expect((await h.store.jobs.list({ line: 'line-b' })).items.map((j) => j.id).sort()).toEqual(['job-00', 'job-03', 'job-06', 'job-09'])
      expect((await h.store.jobs.list({ lines: ['line-b'], line: 'line-a' })).items).toEqual([])
      expect((await h.store.jobs.list({ status: 'done' })).items.map((j) => j.id)).toEqual(['job-04'])
    })
  })
}
