import { describe, expect, it } from 'vitest'
import type { EncodedFrame, WorkerReply } from '../inference/api.ts'
import { answerEvidence } from './evidence.ts'

const jpeg: EncodedFrame = { bytes: new Uint8Array([0xff, 0xd8, 0xff]), mime: 'image/jpeg', width: 1280, height: 960, encodeMs: 3 }

function link(accepts: boolean) {
  const sent: { evidence: unknown[]; messages: unknown[] } = { evidence: [], messages: [] }
  return {
    sent,
    sendEvidence: (e: unknown) => (sent.evidence.push(e), accepts),
    sendMessage: (m: unknown) => (sent.messages.push(m), true),
  }
}

const worker = (reply: WorkerReply<EncodedFrame>) => ({ evidence: () => Promise.resolve(reply) })

describe('answerEvidence', () => {
  it('sends the original the worker encoded from its ring, at the camera size', async () => {
    const l = link(true)
    expect(await answerEvidence('f1', worker({ ok: true, value: jpeg }), l, { mime: 'image/jpeg', quality: 0.9 })).toBe('sent')
    expect(l.sent.evidence).toMatchObject([{ frameId: 'f1', width: 1280, height: 960, mime: 'image/jpeg' }])
    expect(l.sent.messages).toEqual([])
  })

  it('says evidence-missing gone when the frame left the ring, encode_failed when the encoder failed', async () => {
    const l = link(true)
    expect(await answerEvidence('f1', worker({ ok: false, error: { code: 'gone', message: 'x' } }), l, { mime: 'image/jpeg', quality: 0.9 })).toBe('gone')
    expect(await answerEvidence('f2', worker({ ok: false, error: { code: 'encode_failed', message: 'x' } }), l, { mime: 'image/jpeg', quality: 0.9 })).toBe('encode_failed')
    expect(l.sent.messages).toEqual([
      { type: 'evidence-missing', frameId: 'f1', reason: 'gone' },
      { type: 'evidence-missing', frameId: 'f2', reason: 'encode_failed' },
    ])
  })

  it('says evidence-missing too_large when the link would not send it (over maxFrameBytes)', async () => {
    const l = link(false)
    expect(await answerEvidence('f1', worker({ ok: true, value: jpeg }), l, { mime: 'image/jpeg', quality: 0.9 })).toBe('too_large')
    expect(l.sent.messages).toEqual([{ type: 'evidence-missing', frameId: 'f1', reason: 'too_large' }])
  })
})
