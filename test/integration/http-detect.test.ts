/**
 * POST /api/v1/detect against a real linesight process: the sample images give their
 * ground-truth classes, and every kind of bad input gets its status while the server keeps
 * serving.
 */
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { missing, readGolden } from '../helpers/golden.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

let server: RunningServer
const samples = loadSamples()
// ground truth the default detector is known to miss (models/samples/golden.json); the list is
// checked both ways, so a retrained detector that finds them makes this test ask for a new golden
const golden = new Map(readGolden().samples.map((g) => [g.file, g.knownMisses]))

beforeAll(async () => {
  server = await startServer({ env: { MAX_FRAME_BYTES: String(2 * 1024 * 1024), MAX_PIXELS: String(4_000_000) } })
})
afterAll(async () => {
  await server?.stop()
})

const detect = (body: Uint8Array | string, type = 'image/jpeg', query = 'line=L1&station=S1') =>
  server.admin(`/api/v1/detect?${query}`, { method: 'POST', headers: { 'content-type': type }, body: body as BodyInit })

describe('POST /api/v1/detect', () => {
  it.each(samples.map((s) => [s.case, s] as const))('finds the ground-truth defects in the %s sample', async (_case, sample) => {
    const res = await detect(sample.bytes)
    expect(res.status).toBe(200)
    const result = (await res.json()) as InspectionResult
    expect(result.line).toBe('L1')
    expect(result.inferredAt).toBe('server')
    expect(result.width).toBe(sample.width)
    for (const stage of ['queue', 'decode', 'infer', 'postprocess']) expect(result.timings[stage]).toBeGreaterThanOrEqual(0)
    // every labelled object is found with its class at IoU >= 0.5, boxes in original pixels,
    // except the golden's known misses, which must still be missed
    const known = golden.get(sample.file) ?? []
    const got = JSON.stringify(result.detections.map((d) => [d.class, d.box.map(Math.round)]))
    expect(missing(sample.boxes, result.detections), `${sample.file}; got ${got}`).toEqual(known.map((k) => expect.objectContaining({ class: k.class })))
    const defects = sample.boxes.filter((b) => b.class !== 'part')
    expect(result.verdict).toBe(defects.length ? 'fail' : 'pass')
    // the result is recorded and readable by frame id
    const stored = await server.admin(`/api/v1/results/${result.frameId}`)
    expect(stored.status).toBe(200)
    expect(((await stored.json()) as InspectionResult).verdict).toBe(result.verdict)
  })

  it('accepts PNG as well as JPEG', async () => {
    const png = await sharp(samples[0]!.bytes).png().toBuffer()
    const res = await detect(png, 'image/png')
    expect(res.status).toBe(200)
  })

  it.each([
    ['a wrong content type', () => detect('hello', 'text/plain'), 415, 'unsupported_type'],
    ['an empty body', () => detect(new Uint8Array(0)), 422, 'empty'],
    ['bytes that are not an image', () => detect(Buffer.from('definitely not a jpeg')), 422, 'undecodable'],
    ['a body over MAX_FRAME_BYTES', () => detect(new Uint8Array(3 * 1024 * 1024)), 413, 'too_large'],
    ['an image over MAX_PIXELS', async () => detect(await sharp({ create: { width: 2500, height: 2000, channels: 3, background: '#888' } }).jpeg().toBuffer()), 413, 'too_many_pixels'],
    ['a bad line id', () => detect(samples[0]!.bytes, 'image/jpeg', 'line=../../etc'), 400, 'bad_line'],
    ['an unknown model', () => detect(samples[0]!.bytes, 'image/jpeg', 'line=L1&model=nope'), 404, 'unknown_model'],
  ] as const)('answers %s with %i and a JSON error, then keeps serving', async (_name, send, status, code) => {
    const res = await send()
    expect(res.status).toBe(status)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe(code)
    expect(body.error.message.length).toBeGreaterThan(0)
    const after = await detect(samples[0]!.bytes)
    expect(after.status).toBe(200)
  })

  it('answers a truncated JPEG (valid header, broken data) with 422', async () => {
    const truncated = samples[0]!.bytes.subarray(0, Math.floor(samples[0]!.bytes.length / 3))
    const res = await detect(truncated)
    expect([422]).toContain(res.status)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it('returns 404 for an unknown frame id', async () => {
    const res = await server.admin(`/api/v1/results/no-such-frame`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })
})
