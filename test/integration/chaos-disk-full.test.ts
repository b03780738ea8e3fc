/**
 * The data folder's disk full (issue 19): an all-in-one process on a data folder of its own on an
 * 8 MB tmpfs, keeping every frame's image (STORE_IMAGES=all). The test fills what is left with a
 * file of its own, and asserts: a clear error in the log, /ready 503 with `dataDir.ready: false`;
 * after the file is removed, /ready 200 and new frames recorded; after the process stopped, its
 * SQLite files (results, images, queue journal) pass `PRAGMA integrity_check`.
 *
 * Needs root (mount -t tmpfs); without it the test is skipped and says why.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { resultsOfLine } from '../helpers/broker.ts'
import { loadSamples } from '../helpers/samples.ts'
import { FAULT_TEST_ENV, type RunningServer, startServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

const LINE = 'L-diskfull'
const samples = loadSamples()

function mountSmallDisk(): { dir: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'linesight-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' })
    return { dir }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    return { skip: `mount -t tmpfs failed (${(err as Error).message.split('\n')[0]}); the disk-full test needs root` }
  }
}

/** Writes zeros until the filesystem refuses (ENOSPC); returns how many bytes went in. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  let written = 0
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
        // the last partial page: fill it byte-sized until nothing more fits
        if (chunk.length === 1) return written
        return written + fillRest(fd)
      }
    }
  } finally {
    closeSync(fd)
  }
}

function fillRest(fd: number): number {
  let written = 0
  for (const size of [4096, 512, 1]) {
    const b = Buffer.alloc(size)
    for (;;) {
      try {
        written += writeSync(fd, b)
      } catch {
        break
      }
    }
  }
  return written
}

const disk = mountSmallDisk()
if ('skip' in disk) console.warn(`[chaos-disk-full] ${disk.skip}`)

describe.skipIf('skip' in disk)('the data folder disk full under an all-in-one process', () => {
  const dir = 'dir' in disk ? disk.dir : ''
  let server: RunningServer | undefined
  beforeAll(async () => {
    server = await startServer({
      dataDir: dir,
      env: {
        STORE_IMAGES: 'all',
        DATA_MIN_FREE_MB: '1',
        // FAULT_TEST_ENV's long TTL: frames queued behind the held ones would otherwise expire (told `rejected: expired`)
        ...FAULT_TEST_ENV,
      },
    })
  }, 180_000)
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && server) console.error(`[chaos-disk-full] last log lines:\n${server.logs.slice(-40).map((l) => JSON.stringify(l).slice(0, 300)).join('\n')}`)
  })
  afterAll(() => {
    if (server) void server.kill().catch(() => undefined)
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says so in the log and on /ready, corrupts nothing, and records again once space returns', { timeout: 400_000 }, async () => {
    const s = server!
    const station = await StationClient.connect(s.url, { line: LINE, station: 'S-1' })
    let next = 0
    const frames = (n: number) => Array.from({ length: n }, () => ({ frameId: `full-${next}`, bytes: samples[next++ % samples.length]!.bytes }))
    await station.sendAll(frames(4), { window: 4 })
    await station.settled(120_000)
    expect(station.tally().result).toHaveLength(4)
    expect((await fetch(`${s.url}/ready`)).status).toBe(200)

    const filler = join(dir, 'filler')
    fillDisk(filler)
    await waitFor(async () => (await fetch(`${s.url}/ready`)).status === 503, { timeoutMs: 30_000, what: '/ready 503 with the disk full' })
    const body = (await (await fetch(`${s.url}/ready`)).json()) as { dataDir: { ready: boolean; freeBytes: number } }
    expect(body.dataDir.ready).toBe(false)

    // frames keep coming while the disk is full: writing their images (or rows) must fail loudly
    const logsBefore = s.logs.length
    const whileFull = frames(4)
    for (const f of whileFull) station.send(f)
    const diskError = await waitFor(() => s.logs.slice(logsBefore).find((l) => Number(l.level) >= 40 && /ENOSPC|SQLITE_FULL|no space|disk.*full|database or disk is full/i.test(JSON.stringify(l))), {
      timeoutMs: 120_000,
      what: 'an error in the log naming the full disk',
    })
    console.info(`[chaos-disk-full] logged: ${JSON.stringify(diskError).slice(0, 400)}`)

    // each was answered: accepted (then held by the worker), or busy when the queue journal could not keep it
    await waitFor(() => whileFull.every((f) => station.ackStatus(f.frameId) !== undefined || station.results.has(f.frameId)), { timeoutMs: 60_000, what: 'an answer to each frame sent while full' })
    const refused = whileFull.filter((f) => station.outcome(f.frameId) === 'busy')
    console.info(`[chaos-disk-full] while full: ${whileFull.length - refused.length} accepted, ${refused.length} answered busy`)

    unlinkSync(filler)
    await waitFor(async () => (await fetch(`${s.url}/ready`)).status === 200, { timeoutMs: 60_000, what: '/ready 200 once space returned' })
    // a station sends a frame answered busy again
    for (const f of refused) station.send(f)
    const after = frames(4)
    await station.sendAll(after, { window: 4, timeoutMs: 120_000 })
    await waitFor(() => after.every((f) => station.results.has(f.frameId)), { timeoutMs: 120_000, what: 'results for the frames sent after space returned' })
    const records = new Set((await resultsOfLine(s.url, LINE)).map((r) => r.frameId))
    expect(after.filter((f) => !records.has(f.frameId))).toEqual([])
    // the frames sent while the disk was full were held by the worker, and recorded once it had room
    await waitFor(() => whileFull.every((f) => station.results.has(f.frameId)), { timeoutMs: 120_000, what: 'results for the frames sent while the disk was full' })
    const all = await resultsOfLine(s.url, LINE)
    const recorded = new Set(all.map((r) => r.frameId))
    expect(whileFull.filter((f) => !recorded.has(f.frameId))).toEqual([])
    expect(all.filter((r) => r.error).map((r) => `${r.frameId}:${r.error!.code}`)).toEqual([])
    expect(all).toHaveLength(recorded.size)
    await station.close()

    await s.stop({ keepData: true })
    server = undefined
    // the results database, its images (server/storage/image-db.ts) and the queue journal on the
    // same disk (server/queue/journal.ts)
    for (const file of ['linesight.db', 'images.db', 'queue-journal.db']) {
      const db = new Database(join(dir, file), { readonly: true })
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      } finally {
        db.close()
      }
    }
  })
})
