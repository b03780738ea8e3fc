import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { result } from '../../test/contracts/store/fixtures.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { openSqliteStore } from '../storage/sqlite.ts'
import type { SqlStore } from '../storage/store.ts'
import { ReviewService } from './service.ts'

const warned: string[] = []
const log = { warn: (_obj: object, msg: string) => void warned.push(msg), error: () => undefined }

/** The gauge's value for a line in a scrape of the registry, undefined when the series is absent. */
async function backlogIn(metrics: ReturnType<typeof createMetrics>, line: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics()
  const row = text.split('\n').find((l) => l.startsWith(`linesight_review_backlog{line="${line}"}`))
  return row === undefined ? undefined : Number(row.split(' ').pop())
}

describe('review backlog gauge', () => {
  const cleanup: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
  })
  const open = async (dataDir: string): Promise<SqlStore> => {
    const store = openSqliteStore({ dataDir, log })
    cleanup.push(() => store.close())
    await store.migrate()
    return store
  }
  const newDataDir = (): string => {
    const dataDir = mkdtempSync(join(tmpdir(), 'linesight-review-'))
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }))
    return dataDir
  }

  it('counts the open queue when scraped, including what another process changed', async () => {
    const dataDir = newDataDir()
    const store = await open(dataDir)
    const metrics = createMetrics({ defaultMetrics: false })
    const service = new ReviewService({ reviews: store.reviews, metrics, log })
    const frames = [result({ line: 'line-r' }), result({ line: 'line-r' }), result({ line: 'line-s' })]
    for (const r of frames) await store.record(r)
    for (const r of frames) expect(await service.enqueue(r.frameId, r.line, 'near_threshold')).toBe(true)
    expect(await backlogIn(metrics, 'line-r')).toBe(2)
    expect(await backlogIn(metrics, 'line-s')).toBe(1)

    // a second connection to the same files, as a second linesight process would have
    const other = await open(dataDir)
    await other.reviews.add({ frameId: frames[0]!.frameId, verdict: 'pass', detections: [], reviewer: 'qe' })
    await other.reviews.add({ frameId: frames[2]!.frameId, verdict: 'pass', detections: [], reviewer: 'qe' })
    expect(await backlogIn(metrics, 'line-r')).toBe(1)
    // a line whose backlog emptied reads 0, not its last count
    expect(await backlogIn(metrics, 'line-s')).toBe(0)
  })

  it('keeps the last counts and still answers the scrape when the count fails', async () => {
    const store = await open(newDataDir())
    const metrics = createMetrics({ defaultMetrics: false })
    const service = new ReviewService({ reviews: store.reviews, metrics, log })
    const r = result({ line: 'line-t' })
    await store.record(r)
    await service.enqueue(r.frameId, r.line, 'near_threshold')
    expect(await backlogIn(metrics, 'line-t')).toBe(1)
    await store.close()
    warned.length = 0
    expect(await backlogIn(metrics, 'line-t')).toBe(1)
    expect(warned).toContain('could not count the review backlog for the metrics')
  })
})
