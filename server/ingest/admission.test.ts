/**
 * Frame admission, every refusal reason, by calling the function: no socket, no queue. What the
 * station hears (an error, or a rejected/busy ack) and the frames_dropped reason are both checked.
 */
import { describe, expect, it } from 'vitest'
import { encodeEnvelope, type FrameEnvelope } from '../../shared/protocol/envelope.ts'
import { admitBinary, refuseBrowserResult, refuseImageWait, type AdmissionLimits, type StationState } from './admission.ts'

const limits: AdmissionLimits = { maxFrameBytes: 1024, maxPixels: 640 * 480, credit: 2 }
const hello = { line: 'L1', station: 'S1' }
const ready: StationState = { hello, inFlight: new Map(), pendingImages: new Map() }

function envelope(over: Partial<FrameEnvelope> = {}): Uint8Array {
  return encodeEnvelope({ kind: 'frame', frameId: 'f1', line: 'L1', station: 'S1', capturedAt: 1, mime: 'image/jpeg', width: 640, height: 480, audit: false, shadow: false, payload: new Uint8Array([0xff, 0xd8, 0xff]), ...over })
}

describe('admitBinary', () => {
  it('admits a frame from the station that said hello, within credit and limits', () => {
    const a = admitBinary(envelope(), limits, ready)
    expect(a.ok && a.kind === 'frame' && a.envelope.frameId).toBe('f1')
  })

  it('refuses bytes that are not an envelope as a malformed protocol error', () => {
    const a = admitBinary(new Uint8Array([1, 2, 3]), limits, ready)
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'error', dropped: 'malformed' } })
  })

  it('refuses a payload over MAX_FRAME_BYTES as too_large before reading it', () => {
    const a = admitBinary(envelope({ payload: new Uint8Array(limits.maxFrameBytes + 1) }), limits, ready)
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'error', error: { code: 'too_large' }, dropped: 'too_large' } })
  })

  it('refuses a frame before hello with hello_first, counting nothing', () => {
    const a = admitBinary(envelope(), limits, { ...ready, hello: undefined })
    expect(a).toEqual({ ok: false, refusal: { reply: 'error', frameId: 'f1', error: { code: 'hello_first', message: 'send hello before frames' } } })
  })

  it('rejects a frame for another station than the hello named (wrong_station)', () => {
    for (const other of [{ line: 'L2' }, { station: 'S2' }]) {
      const a = admitBinary(envelope(other), limits, ready)
      expect(a).toMatchObject({ ok: false, refusal: { reply: 'rejected', frameId: 'f1', error: { code: 'wrong_station' }, dropped: 'wrong_station' } })
    }
  })

  it('rejects a frame over MAX_PIXELS (too_large), whatever its byte size', () => {
    const a = admitBinary(envelope({ width: 641, height: 480 }), limits, ready)
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'rejected', error: { code: 'too_large', message: '641x480 exceeds 307200 pixels' }, dropped: 'too_large' } })
  })

  it('admits a frame of exactly MAX_PIXELS', () => {
    expect(admitBinary(envelope({ width: 640, height: 480 }), limits, ready).ok).toBe(true)
  })

  it('rejects a frame id already in flight as a duplicate', () => {
    const a = admitBinary(envelope(), limits, { ...ready, inFlight: new Map([['f1', {}]]) })
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'rejected', error: { code: 'duplicate' }, dropped: 'duplicate' } })
  })

  it('answers busy (over_credit) to a frame past the credit, never buffering it', () => {
    const full = new Map([['a', {}], ['b', {}]])
    const a = admitBinary(envelope(), limits, { ...ready, inFlight: full })
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'busy', frameId: 'f1', error: { code: 'over_credit', message: 'more than 2 frames in flight' }, dropped: 'over_credit' } })
    expect(admitBinary(envelope(), limits, { ...ready, inFlight: new Map([['a', {}]]) }).ok).toBe(true)
  })

  it('checks the station before the credit: a full station still hears wrong_station for another station', () => {
    const a = admitBinary(envelope({ station: 'S9' }), limits, { ...ready, inFlight: new Map([['a', {}], ['b', {}]]) })
    expect(a).toMatchObject({ ok: false, refusal: { error: { code: 'wrong_station' } } })
  })

  it('rejects an image no browser result is waiting for (unexpected_image)', () => {
    const a = admitBinary(envelope({ kind: 'resultImage' }), limits, ready)
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'rejected', error: { code: 'unexpected_image' }, dropped: 'unexpected_image' } })
  })

  it('admits the image of a waiting browser result, outside the frame credit and pixel limit', () => {
    const state = { ...ready, inFlight: new Map([['a', {}], ['b', {}]]), pendingImages: new Map([['f1', {}]]) }
    const a = admitBinary(envelope({ kind: 'resultImage', width: 4000, height: 3000 }), limits, state)
    expect(a.ok && a.kind).toBe('resultImage')
  })
})

describe('evidence (a full-resolution original the server asked for)', () => {
  const asked = { ...ready, inFlight: new Map([['a', {}], ['b', {}]]), pendingEvidence: new Map([['f1', { width: 640, height: 480 }]]) }

  it('admits the original of a frame it was asked for, outside the frame credit', () => {
    const a = admitBinary(envelope({ kind: 'evidence' }), limits, asked)
    expect(a.ok && a.kind).toBe('evidence')
  })

  it('refuses evidence nobody asked for (an unknown frame, or one already sent) as unexpected_evidence, counting no frame dropped', () => {
    const a = admitBinary(envelope({ kind: 'evidence', frameId: 'f2' }), limits, asked)
    expect(a).toEqual({ ok: false, refusal: { reply: 'error', frameId: 'f2', error: { code: 'unexpected_evidence', message: 'no evidence was asked for this frame, or it was already sent' }, evidence: true } })
    expect(admitBinary(envelope({ kind: 'evidence' }), limits, ready)).toMatchObject({ ok: false, refusal: { error: { code: 'unexpected_evidence' } } })
  })

  it('refuses an original that is not the camera frame\'s size (bad_field) or over MAX_PIXELS (too_large)', () => {
    expect(admitBinary(envelope({ kind: 'evidence', width: 320, height: 240 }), limits, asked)).toMatchObject({ ok: false, refusal: { reply: 'error', error: { code: 'bad_field', message: 'the original must be the camera frame, 640x480, not 320x240' } } })
    const big = { ...asked, pendingEvidence: new Map([['f1', { width: 641, height: 480 }]]) }
    expect(admitBinary(envelope({ kind: 'evidence', width: 641, height: 480 }), limits, big)).toMatchObject({ ok: false, refusal: { error: { code: 'too_large' } } })
  })

  it('refuses evidence over MAX_FRAME_BYTES before reading it, like any envelope', () => {
    const a = admitBinary(envelope({ kind: 'evidence', payload: new Uint8Array(limits.maxFrameBytes + 1) }), limits, asked)
    expect(a).toMatchObject({ ok: false, refusal: { reply: 'error', error: { code: 'too_large' } } })
  })
})

describe('browser results', () => {
  it('rejects a browser result for another station (wrong_station)', () => {
    expect(refuseBrowserResult({ frameId: 'b1', line: 'L1', station: 'S2' }, hello)).toMatchObject({ reply: 'rejected', frameId: 'b1', error: { code: 'wrong_station' } })
    expect(refuseBrowserResult({ frameId: 'b1', line: 'L1', station: 'S1' }, hello)).toBeUndefined()
  })

  it('rejects a result whose image would wait when the waiting room is full (busy)', () => {
    expect(refuseImageWait('b1', 16, 16)).toMatchObject({ reply: 'rejected', error: { code: 'busy' }, dropped: 'busy' })
    expect(refuseImageWait('b1', 15, 16)).toBeUndefined()
  })
})
