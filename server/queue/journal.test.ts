import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { queueContract } from '../../test/contracts/queue.ts'
import { waitFor } from '../../test/helpers/wait.ts'
import { EmbeddedQueue } from './embedded.ts'
import { QueueJournal } from './journal.ts'
import type { DeadLetter, QueueMessage } from './types.ts'

const dir = mkdtempSync(join(tmpdir(), 'linesight-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const nextFile = () => join(dir, `journal-${++files}.db`)

queueContract('embedded with a journal', async (opts) => new EmbeddedQueue({ ...opts, deadLetterMax: 100, journal: new QueueJournal(nextFile()) }))

const options = { maxLength: { live: 100, batch: 100 }, deliveryLimit: 3, liveTtlMs: 60_000, deadLetterMax: 10 }
const message = (id: string, n = 1): QueueMessage => ({ id, headers: { line: 'L', n, audit: n % 2 === 0 }, body: new Uint8Array(4096).fill(n) })

/** A process that dies: its queue is dropped without close(), so nothing is flushed or settled. */
function crash(q: EmbeddedQueue): void {
  void q
}

describe('the embedded queue journal', () => {
  it('replays, in order and with their bytes, the frames a killed process had accepted and not acknowledged', async () => {
    const file = nextFile()
    const journal = new QueueJournal(file)
    const first = new EmbeddedQueue({ ...options, journal })
    for (let i = 1; i <= 5; i++) await first.publish(message(`f${i}`, i), { priority: i === 5 ? 'batch' : 'live' })
    // f1 and f2 are recorded and acknowledged; f3 is being inferred when the process dies
    const held: (() => void)[] = []
    let acked = 0
    await first.consume(async (d) => {
      if (d.message.id === 'f3') return new Promise<void>((resolve) => held.push(resolve))
      acked++
    }, { prefetch: 1 })
    await waitFor(() => held.length === 1 && acked === 2, { what: 'f1, f2 acknowledged and f3 in flight' })
    journal.flush() // the batched removals of f1 and f2 (written within JOURNAL_FLUSH_MS)
    crash(first)

    const second = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(second.replayed).toBe(3)
    const got: { id: string; attempt: number; priority: string; headers: object; first: number; size: number }[] = []
    await second.consume(async (d) => {
      got.push({ id: d.message.id, attempt: d.attempt, priority: d.priority, headers: d.message.headers, first: d.message.body[0]!, size: d.message.body.byteLength })
    }, { prefetch: 1 })
    await waitFor(() => got.length === 3, { what: 'three replayed deliveries' })
    expect(got).toEqual([
      { id: 'f3', attempt: 2, priority: 'live', headers: { line: 'L', n: 3, audit: false }, first: 3, size: 4096 },
      { id: 'f4', attempt: 2, priority: 'live', headers: { line: 'L', n: 4, audit: true }, first: 4, size: 4096 },
      { id: 'f5', attempt: 2, priority: 'batch', headers: { line: 'L', n: 5, audit: false }, first: 5, size: 4096 },
    ])
    for (const release of held) release()
    await second.close()
    const third = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(third.replayed).toBe(0)
    await third.close()
  })

  it('gives a replayed live frame a full TTL from the new start, however long the restart took', async () => {
    const file = nextFile()
    const first = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    await first.publish(message('slow-restart'), { priority: 'live' })
    crash(first)
    // the file as a restart longer than the TTL finds it: the frame's expiry has passed
    const db = new Database(file)
    expect(db.prepare('UPDATE frames SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, 'slow-restart').changes).toBe(1)
    db.close()
    const second = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    const dead: DeadLetter[] = []
    second.onDeadLetter((d) => dead.push(d))
    const ids: string[] = []
    await second.consume(async (d) => void ids.push(d.message.id), { prefetch: 1 })
    await waitFor(() => ids.length + dead.length === 1, { what: 'the replayed frame delivered or dead-lettered' })
    expect(dead).toEqual([])
    expect(ids).toEqual(['slow-restart'])
    await second.close()
  })

  it('does not queue a frame twice when its station resends it (the replayed copy answers)', async () => {
    const file = nextFile()
    const first = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    await first.publish(message('dup'), { priority: 'live' })
    crash(first)
    const second = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    await second.publish(message('dup'), { priority: 'live' })
    expect(await second.depth()).toMatchObject({ live: 1 })
    const ids: string[] = []
    await second.consume(async (d) => void ids.push(d.message.id), { prefetch: 1 })
    await waitFor(() => ids.length === 1, { what: 'the delivery' })
    // once acknowledged, the same id is a new frame again (a resend after its result was lost)
    await waitFor(async () => (await second.depth()).unacked === 0, { what: 'the ack' })
    await second.publish(message('dup'), { priority: 'live' })
    await waitFor(() => ids.length === 2, { what: 'the second delivery' })
    await second.close()
  })

  it('dead-letters a replayed frame whose runs used up the delivery limit, instead of crash-looping on it', async () => {
    const file = nextFile()
    let q = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    await q.publish(message('poison'), { priority: 'live' })
    // each process dies while inferring it
    for (let run = 1; run < options.deliveryLimit; run++) {
      crash(q)
      q = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    }
    crash(q)
    q = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    const dead: DeadLetter[] = []
    q.onDeadLetter((d) => dead.push(d))
    const delivered: string[] = []
    await q.consume(async (d) => void delivered.push(d.message.id), { prefetch: 1 })
    await waitFor(() => dead.length === 1, { what: 'the dead letter' })
    expect(dead[0]).toMatchObject({ reason: 'delivery-limit', message: { id: 'poison' } })
    expect(delivered).toEqual([])
    await q.close()
    const after = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(after.replayed).toBe(0)
    await after.close()
  })

  it('keeps a frame published with durable: false in memory only: delivered as any other, never written, never replayed', async () => {
    const file = nextFile()
    const first = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    await first.publish(message('kept', 1), { priority: 'live' })
    await first.publish(message('caller-holds', 2), { priority: 'live', durable: false })
    await first.publish(message('refused', 3), { priority: 'live', durable: false })
    const rows = () => {
      const db = new Database(file, { readonly: true })
      try {
        return (db.prepare('SELECT id FROM frames ORDER BY seq').all() as { id: string }[]).map((r) => r.id)
      } finally {
        db.close()
      }
    }
    expect(rows()).toEqual(['kept'])
    const dead: string[] = []
    first.onDeadLetter((d) => void dead.push(d.message.id))
    const got: { id: string; first: number }[] = []
    const held: (() => void)[] = []
    await first.consume(async (d) => {
      got.push({ id: d.message.id, first: d.message.body[0]! })
      if (d.message.id === 'refused') return d.nack({ requeue: false })
      return new Promise<void>((resolve) => held.push(resolve))
    }, { prefetch: 3 })
    await waitFor(() => got.length === 3 && dead.length === 1, { what: 'three deliveries and a dead letter' })
    expect(got).toEqual([{ id: 'kept', first: 1 }, { id: 'caller-holds', first: 2 }, { id: 'refused', first: 3 }])
    crash(first)
    const second = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(second.replayed).toBe(1)
    const replayed: string[] = []
    await second.consume(async (d) => void replayed.push(d.message.id), { prefetch: 1 })
    await waitFor(() => replayed.length === 1, { what: 'the replayed frame' })
    expect(replayed).toEqual(['kept'])
    await second.close()
    expect(rows()).toEqual([])
  })

  it("keeps a dead-lettered frame until its listener's record is written, so a kill in between dead-letters it again at the next start", async () => {
    const file = nextFile()
    const journal = new QueueJournal(file)
    const first = new EmbeddedQueue({ ...options, journal })
    // the error record is being written when the process dies: its promise never settles
    const recording: DeadLetter[] = []
    first.onDeadLetter((d) => {
      recording.push(d)
      return new Promise<void>(() => undefined)
    })
    await first.publish(message('bad'), { priority: 'live' })
    await first.consume(async (d) => d.nack({ requeue: false, reason: 'undecodable: not an image' }), { prefetch: 1 })
    await waitFor(() => recording.length === 1, { what: 'the dead letter' })
    // the pending removals written: a row removed at dead-lettering would be gone now
    journal.flush()
    crash(first)

    const second = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(second.replayed).toBe(1)
    const dead: DeadLetter[] = []
    second.onDeadLetter(async (d) => void dead.push(d))
    await second.consume(async (d) => d.nack({ requeue: false, reason: 'undecodable: not an image' }), { prefetch: 1 })
    await waitFor(() => dead.length === 1, { what: 'the frame dead-lettered again' })
    expect(dead[0]).toMatchObject({ reason: 'rejected', message: { id: 'bad' } })
    // its record written this time: the row leaves with the next batch of removals
    await second.close()
    const third = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(third.replayed).toBe(0)
    await third.close()
  })

  it('writes removals in batches: after JOURNAL_FLUSH_MS without a flush, and at once on close', async () => {
    const file = nextFile()
    const journal = new QueueJournal(file)
    const q = new EmbeddedQueue({ ...options, journal })
    for (let i = 1; i <= 3; i++) await q.publish(message(`b${i}`, i), { priority: 'live' })
    const rows = () => {
      const db = new Database(file, { readonly: true })
      try {
        return (db.prepare('SELECT count(*) AS n FROM frames').get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    expect(rows()).toBe(3)
    let acked = 0
    await q.consume(async () => void acked++, { prefetch: 1 })
    await waitFor(() => acked === 3, { what: 'three acknowledged' })
    await waitFor(() => rows() === 0, { what: 'their removals written without a flush or a close' })
    await q.publish(message('b4', 4), { priority: 'live' })
    await waitFor(() => acked === 4, { what: 'the fourth acknowledged' })
    await q.close()
    expect(rows()).toBe(0)
  })

  it("takes 16 KiB pages in an earlier release's empty journal, and keeps a journal with frames as it is", () => {
    const old = (withFrame: boolean) => {
      const file = nextFile()
      const db = new Database(file)
      db.pragma('page_size = 65536')
      db.pragma('journal_mode = WAL')
      db.exec('CREATE TABLE frames (seq INTEGER NOT NULL, id TEXT PRIMARY KEY, priority TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, expires_at REAL, attempts INTEGER NOT NULL)')
      db.pragma('user_version = 1')
      if (withFrame) db.prepare('INSERT INTO frames VALUES (1, ?, ?, ?, ?, NULL, 0)').run('kept', 'live', '{"line":"L"}', Buffer.alloc(100, 9))
      db.close()
      return file
    }
    const pageSize = (file: string) => {
      const db = new Database(file, { readonly: true })
      try {
        return db.pragma('page_size', { simple: true })
      } finally {
        db.close()
      }
    }
    const empty = old(false)
    new QueueJournal(empty).close()
    expect(pageSize(empty)).toBe(16384)
    const full = old(true)
    const j = new QueueJournal(full)
    expect(j.replay().map((w) => [w.message.id, w.message.body.length])).toEqual([['kept', 100]])
    j.close()
    expect(pageSize(full)).toBe(65536)
  })

  it('keeps a dead-lettered frame whose record failed, and reports it', async () => {
    const file = nextFile()
    const reported: string[] = []
    const q = new EmbeddedQueue({ ...options, journal: new QueueJournal(file), onError: (_err, context) => void reported.push(context) })
    q.onDeadLetter(async () => {
      throw new Error('database or disk is full')
    })
    await q.publish(message('unrecorded'), { priority: 'live' })
    await q.consume(async (d) => d.nack({ requeue: false, reason: 'undecodable: not an image' }), { prefetch: 1 })
    await waitFor(() => reported.length === 1, { what: 'the failed record reported' })
    expect(reported[0]).toMatch(/onDeadLetter listener.*unrecorded.*kept/)
    await q.close()
    const next = new EmbeddedQueue({ ...options, journal: new QueueJournal(file) })
    expect(next.replayed).toBe(1)
    await next.close()
  })
})
