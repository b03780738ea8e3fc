import { describe, expect, it } from 'vitest'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { Outbox } from './outbox.ts'
import type { BrowserResult, OutboxCounts, OutboxEntry, OutboxStore } from './types.ts'

/** The outbox contract over a Map; IndexedDB itself is exercised by the browser e2e test. */
class MapStore implements OutboxStore {
  readonly entries = new Map<string, OutboxEntry>()
  #seq = 0

  async add(e: Omit<OutboxEntry, 'seq'>): Promise<void> {
    if (!this.entries.has(e.frameId)) this.entries.set(e.frameId, { ...e, seq: ++this.#seq })
  }
  async pending(line: string, station: string, afterSeq: number, limit: number): Promise<OutboxEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.line === line && e.station === station && e.seq > afterSeq && e.state === 'pending')
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
  }
  async remove(frameId: string): Promise<void> {
    this.entries.delete(frameId)
  }
  async reject(frameId: string, error: WireError): Promise<void> {
    const e = this.entries.get(frameId)
    if (e) this.entries.set(frameId, { ...e, state: 'rejected', error })
  }
  async counts(): Promise<OutboxCounts> {
    const all = [...this.entries.values()]
    return { pending: all.filter((e) => e.state === 'pending').length, rejected: all.filter((e) => e.state === 'rejected').length }
  }
}

function result(frameId: string): BrowserResult {
  return {
    frameId, line: 'L1', station: 'S1', capturedAt: 1, model: { name: 'detector', version: '1' }, inferredAt: 'browser', ep: 'wasm',
    detections: [], verdict: 'pass', timings: { infer: 30 }, source: 'browser',
  }
}

/** Lets queued promise callbacks (store operations, pumps) run. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

function setup(over: { maxInFlight?: number } = {}) {
  const store = new MapStore()
  const sent: string[] = []
  const errors: WireError[] = []
  let connected = false
  const clock = { now: 0 }
  const outbox = new Outbox({
    store,
    line: 'L1',
    station: 'S1',
    send: (e) => connected && (sent.push(e.frameId), true),
    onCounts: () => {},
    onError: (e) => errors.push(e),
    answerTimeoutMs: 10_000,
    retryDelayMs: 2_000,
    now: () => clock.now,
    ...over,
  })
  const connect = async () => {
    connected = true
    outbox.online()
    await settle()
  }
  const disconnect = () => {
    connected = false
    outbox.offline()
  }
  return { store, sent, errors, clock, outbox, connect, disconnect }
}

describe('outbox', () => {
  it('keeps results while offline and replays them in order when the connection returns', async () => {
    const { sent, outbox, connect, store } = setup({ maxInFlight: 10 })
    for (const id of ['f1', 'f2', 'f3']) await outbox.add(result(id))
    await settle()
    expect(sent).toEqual([])
    expect(outbox.counts).toEqual({ pending: 3, rejected: 0 })
    await connect()
    expect(sent).toEqual(['f1', 'f2', 'f3'])
    expect(store.entries.size).toBe(3)
  })

  it('removes a result only when the server says it was recorded', async () => {
    const { sent, outbox, connect, disconnect, store } = setup()
    await connect()
    await outbox.add(result('f1'))
    await settle()
    outbox.onAck({ frameId: 'f1', status: 'accepted' })
    disconnect()
    await settle()
    expect(store.entries.has('f1')).toBe(true)
    await connect()
    expect(sent).toEqual(['f1', 'f1'])
    outbox.onAck({ frameId: 'f1', status: 'recorded' })
    await settle()
    expect(store.entries.size).toBe(0)
    expect(outbox.counts).toEqual({ pending: 0, rejected: 0 })
  })

  it('never has more results unanswered than its window, and sends the next as answers come', async () => {
    const { sent, outbox, connect } = setup({ maxInFlight: 2 })
    for (const id of ['f1', 'f2', 'f3', 'f4', 'f5']) await outbox.add(result(id))
    await connect()
    expect(sent).toEqual(['f1', 'f2'])
    outbox.onAck({ frameId: 'f2', status: 'recorded' })
    await settle()
    expect(sent).toEqual(['f1', 'f2', 'f3'])
    outbox.onAck({ frameId: 'f1', status: 'recorded' })
    outbox.onAck({ frameId: 'f3', status: 'recorded' })
    await settle()
    expect(sent).toEqual(['f1', 'f2', 'f3', 'f4', 'f5'])
  })

  it('waits after a busy answer and then replays from the oldest result, in order', async () => {
    const { sent, outbox, connect, clock } = setup({ maxInFlight: 3 })
    for (const id of ['f1', 'f2', 'f3']) await outbox.add(result(id))
    await connect()
    outbox.onAck({ frameId: 'f1', status: 'recorded' })
    outbox.onAck({ frameId: 'f2', status: 'rejected', error: { code: 'busy', message: 'too many browser results waiting for their image' } })
    await settle()
    clock.now += 1_000
    outbox.tick()
    await settle()
    expect(sent).toEqual(['f1', 'f2', 'f3'])
    clock.now += 1_500
    outbox.tick()
    await settle()
    expect(sent).toEqual(['f1', 'f2', 'f3', 'f2', 'f3'])
  })

  it('keeps a result the server refused for good, shows it, and goes on with the next', async () => {
    const { sent, outbox, connect, errors, store } = setup({ maxInFlight: 1 })
    for (const id of ['f1', 'f2']) await outbox.add(result(id))
    await connect()
    outbox.onError('f1', { code: 'bad_message', message: 'invalid "browser-result" message: result.detections: too big' })
    await settle()
    expect(store.entries.get('f1')?.state).toBe('rejected')
    expect(errors[0]).toMatchObject({ code: 'bad_message' })
    expect(outbox.counts).toEqual({ pending: 1, rejected: 1 })
    expect(sent).toEqual(['f1', 'f2'])
  })

  it('sends again a result whose answer never came', async () => {
    const { sent, outbox, connect, clock } = setup()
    await outbox.add(result('f1'))
    await connect()
    clock.now += 9_000
    outbox.tick()
    await settle()
    expect(sent).toEqual(['f1'])
    clock.now += 1_000
    outbox.tick()
    await settle()
    expect(sent).toEqual(['f1', 'f1'])
  })

  it('ignores acks of frames it did not send (the server frames share the socket)', async () => {
    const { outbox, connect, store } = setup()
    await outbox.add(result('f1'))
    await connect()
    outbox.onAck({ frameId: 'other', status: 'recorded' })
    await settle()
    expect(store.entries.size).toBe(1)
  })

  it('stores a frame id once, however often it is added', async () => {
    const { outbox } = setup()
    await outbox.add(result('f1'))
    await outbox.add(result('f1'))
    expect(outbox.counts).toEqual({ pending: 1, rejected: 0 })
  })
})
