import fc from 'fast-check'
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, FIXED_HEADER, type FrameEnvelope } from './envelope.ts'

const limits = { maxPayloadBytes: 1024 * 1024 }

function sample(over: Partial<FrameEnvelope> = {}): FrameEnvelope {
  return {
    kind: 'frame',
    frameId: 'f-0001',
    line: 'L1',
    station: 'S1',
    capturedAt: 1764316800123.5,
    mime: 'image/jpeg',
    width: 640,
    height: 480,
    audit: false,
    shadow: true,
    payload: Uint8Array.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]),
    ...over,
  }
}

describe('frame envelope', () => {
  it('round-trips every field', () => {
    const env = sample({ kind: 'resultImage', audit: true })
    const decoded = decodeEnvelope(encodeEnvelope(env), limits)
    expect(decoded).toEqual({ ok: true, envelope: env })
  })

  it('round-trips a letterboxed frame with the camera size it came from, as version 2', () => {
    const env = sample({ width: 320, height: 320, from: { width: 1920, height: 1080 } })
    const bytes = encodeEnvelope(env)
    expect(bytes[2]).toBe(2)
    expect(decodeEnvelope(bytes, limits)).toEqual({ ok: true, envelope: env })
  })

  it('still writes and reads version 1 for a full camera frame', () => {
    const bytes = encodeEnvelope(sample())
    expect(bytes[2]).toBe(1)
    const decoded = decodeEnvelope(bytes, limits)
    expect(decoded.ok && decoded.envelope.from).toBeUndefined()
  })

  it('refuses a version-2 frame without a camera size', () => {
    const bytes = encodeEnvelope(sample({ from: { width: 1920, height: 1080 } }))
    new DataView(bytes.buffer).setUint16(24, 0, true)
    const decoded = decodeEnvelope(bytes, limits)
    expect(!decoded.ok && decoded.error.code).toBe('bad_field')
  })

  it('carries a part id in a model-size frame too', () => {
    const env = sample({ width: 320, height: 240, from: { width: 1280, height: 960 }, partId: 'SN-7' })
    expect(decodeEnvelope(encodeEnvelope(env), limits)).toEqual({ ok: true, envelope: env })
  })

  it('carries a part id when the frame belongs to a part, and none otherwise', () => {
    const env = sample({ partId: 'SN-42/A#7' })
    expect(decodeEnvelope(encodeEnvelope(env), limits)).toEqual({ ok: true, envelope: env })
    const plain = decodeEnvelope(encodeEnvelope(sample()), limits)
    expect(plain.ok && 'partId' in plain.envelope).toBe(false)
  })

  it('refuses a part id with a space in it', () => {
    const decoded = decodeEnvelope(encodeEnvelope(sample({ partId: 'SN 42' })), limits)
    expect(decoded).toMatchObject({ ok: false, error: { code: 'bad_field' } })
  })

  it('decodes from a view at an offset inside a larger buffer', () => {
    const bytes = encodeEnvelope(sample())
    const big = new Uint8Array(bytes.length + 13)
    big.set(bytes, 7)
    const decoded = decodeEnvelope(big.subarray(7, 7 + bytes.length), limits)
    expect(decoded.ok && decoded.envelope.frameId).toBe('f-0001')
  })

  it.each([
    ['a short header', (b: Uint8Array) => b.subarray(0, 10), 'short_header'],
    ['an unknown version', (b: Uint8Array) => (b[2] = 9, b), 'unknown_version'],
    ['bad magic', (b: Uint8Array) => (b[0] = 0, b), 'bad_magic'],
    ['an unknown kind', (b: Uint8Array) => (b[3] = 77, b), 'unknown_kind'],
    ['a payload length that disagrees with the bytes', (b: Uint8Array) => b.subarray(0, b.length - 1), 'length_mismatch'],
    ['trailing bytes', (b: Uint8Array) => Uint8Array.from([...b, 0]), 'length_mismatch'],
    ['a header length past the end', (b: Uint8Array) => (new DataView(b.buffer).setUint16(6, 60000, true), b), 'bad_header_length'],
  ])('refuses %s with a named error', (_name, mutate, code) => {
    const decoded = decodeEnvelope(mutate(encodeEnvelope(sample())), limits)
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) expect(decoded.error.code).toBe(code)
  })

  it('refuses an oversized image before looking at it', () => {
    const decoded = decodeEnvelope(encodeEnvelope(sample({ payload: new Uint8Array(2000) })), { maxPayloadBytes: 1000 })
    expect(!decoded.ok && decoded.error.code).toBe('too_large')
  })

  it('refuses ids that could be paths and unknown image types', () => {
    const traversal = decodeEnvelope(encodeEnvelope(sample({ line: '../../etc' })), limits)
    expect(!traversal.ok && traversal.error.message).toMatch(/line/)
    const mime = decodeEnvelope(encodeEnvelope(sample({ mime: 'text/html' as never })), limits)
    expect(!mime.ok && mime.error.code).toBe('unsupported_type')
  })

  it('never throws on random or truncated input, and memory stays flat', () => {
    const valid = encodeEnvelope(sample())
    const run = () =>
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }),
            fc.integer({ min: 0, max: valid.length }).map((n) => valid.slice(0, n)),
            fc.tuple(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
              const b = valid.slice()
              b[i] = v
              return b
            }),
            fc.uint8Array({ minLength: FIXED_HEADER, maxLength: 120 }).map((b) => {
              b[0] = 0x4c
              b[1] = 0x53
              b[2] = 1
              b[3] = 1
              return b
            }),
          ),
          (bytes) => {
            const r = decodeEnvelope(bytes, limits)
            // either a well-formed envelope or a coded error; nothing else
            return r.ok ? r.envelope.payload.length > 0 : typeof r.error.code === 'string' && r.error.message.length > 0
          },
        ),
        { numRuns: 5000 },
      )
    v8.setFlagsFromString('--expose_gc')
    const gc = vm.runInNewContext('gc') as () => void
    run() // warm up JIT and allocations
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 4; i++) run()
    gc()
    const grown = process.memoryUsage().heapUsed - before
    // 20,000 more decodes retain nothing: growth stays far below one envelope per decode
    expect(grown).toBeLessThan(20_000 * valid.length)
  })
})
