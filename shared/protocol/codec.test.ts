import { describe, expect, it } from 'vitest'
import { encodeMessage, parseClientMessage, parseServerMessage, MAX_JSON_MESSAGE } from './codec.ts'

describe('JSON message codec', () => {
  it('round-trips a hello and a subscribe', () => {
    const hello = { type: 'hello' as const, id: '1', line: 'L1', station: 'S1' }
    expect(parseClientMessage(encodeMessage(hello))).toEqual({ ok: true, message: hello })
    const sub = { type: 'subscribe' as const, lines: ['L1', 'L2'] }
    expect(parseClientMessage(encodeMessage(sub))).toEqual({ ok: true, message: sub })
  })

  it('names the field that is wrong and echoes the request id', () => {
    const r = parseClientMessage(JSON.stringify({ type: 'hello', id: 'req-7', line: 'L 1', station: 'S1' }))
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.id).toBe('req-7')
      expect(r.error.code).toBe('bad_message')
      expect(r.error.message).toMatch(/line/)
    }
  })

  it('refuses non-JSON, unknown types and oversized messages', () => {
    expect(parseClientMessage('{nope').ok).toBe(false)
    const unknown = parseClientMessage(JSON.stringify({ type: 'launch-missiles' }))
    expect(!unknown.ok && unknown.error.code).toBe('bad_message')
    const big = parseClientMessage('x'.repeat(MAX_JSON_MESSAGE + 1))
    expect(!big.ok && big.error.code).toBe('too_large')
  })

  it('keeps server and client messages apart', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'hello', line: 'L1', station: 'S1' })).ok).toBe(false)
    expect(parseServerMessage(JSON.stringify({ type: 'ack', frameId: 'f1', status: 'busy' })).ok).toBe(true)
  })
})
