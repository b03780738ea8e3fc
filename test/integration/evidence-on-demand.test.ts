/**
 * Evidence on demand through a real server: a station sends model-size frames (the uplink) and
 * keeps the camera's originals; the server asks for the original of a failing frame (line setting
 * `evidence`: `failing` by default, `never`, `all`) and stores it as the record's image, which the
 * image route then serves at the camera's resolution. The station here is the protocol-level
 * client; the browser's own ring answers in test/e2e/station-kiosk.test.ts.
 */
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { uplinkSize } from '../../shared/inference/letterbox.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'
import { waitFor } from '../helpers/wait.ts'

type Station = Awaited<ReturnType<typeof StationClient.connect>>

/** Small enough that a camera original can be made to exceed it. */
const MAX_FRAME_BYTES = 1_500_000
const CAMERA = { width: 1280, height: 960 }

let server: RunningServer
const samples = loadSamples()
const sample = (name: string) => samples.find((s) => s.case === name)!

interface CameraFrame {
  original: Buffer
  small: Buffer
  size: { width: number; height: number }
}

/** A sample as a 1280x960 camera would give it, and the model-size frame the station sends. */
async function cameraFrame(name: string, input: { width: number; height: number }): Promise<CameraFrame> {
  const original = await sharp(sample(name).bytes).resize(CAMERA.width, CAMERA.height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer()
  const size = uplinkSize(CAMERA, input)
  const small = await sharp(original).resize(size.width, size.height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer()
  return { original, small, size }
}

async function connect(line: string, evidence?: 'never' | 'failing' | 'all'): Promise<Station> {
  if (evidence) {
    const res = await server.admin(`/api/v1/lines/${line}/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ evidence }) })
    expect(res.status, await res.clone().text()).toBe(200)
  }
  return StationClient.connect(server.url, { line, station: 'tablet-1' })
}

/** Sends the model-size frame and resolves with its result. */
async function inspect(station: Station, frameId: string, f: CameraFrame): Promise<InspectionResult> {
  station.send({ frameId, bytes: f.small, width: f.size.width, height: f.size.height, from: CAMERA })
  return waitFor(() => station.results.get(frameId)?.[0] ?? (station.acks.get(frameId)?.some((a) => a.status !== 'accepted') ? Promise.reject(new Error(JSON.stringify(station.acks.get(frameId)))) : undefined), { timeoutMs: 60_000, what: `the result of ${frameId}` })
}

/** The stored image's size, or null when none is stored. */
async function storedSize(frameId: string, variant: 'original' | 'thumbnail' = 'original'): Promise<{ width: number; height: number } | null> {
  const res = await server.admin(`/api/v1/results/${frameId}/image?variant=${variant}`)
  if (res.status === 404) return null
  expect(res.status).toBe(200)
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata()
  return { width: meta.width!, height: meta.height! }
}

async function evidenceCount(line: string, outcome: string): Promise<number> {
  const text = await (await server.admin('/metrics')).text()
  const m = text.match(new RegExp(`^linesight_evidence_total\\{line="${line}",outcome="${outcome}"\\} (\\d+)`, 'm'))
  return m ? Number(m[1]) : 0
}

/** Answers every request with the original of the frame, as a station's ring would. */
function answerFrom(station: Station, originals: Map<string, Buffer>): void {
  station.onEvidenceRequest = (frameId) => {
    const original = originals.get(frameId)
    if (original) station.sendEvidence({ frameId, bytes: original, ...CAMERA })
    else station.sendMessage({ type: 'evidence-missing', frameId, reason: 'gone' })
  }
}

beforeAll(async () => {
  server = await startServer({ env: { MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) } })
}, 120_000)

afterAll(async () => {
  await server?.stop()
})

describe('evidence on demand', () => {
  it('stores the full-resolution original of a failing frame, and asks nothing of a passing one (default `failing`)', async () => {
    const station = await connect('ev-failing')
    try {
      const input = station.welcome.uplink!
      expect(station.welcome.settings.evidence ?? 'failing').toBe('failing')
      const scratch = await cameraFrame('scratch', input)
      const clean = await cameraFrame('clean-part', input)
      answerFrom(station, new Map([['ev-f-scratch', scratch.original], ['ev-f-clean', clean.original]]))
      expect((await inspect(station, 'ev-f-clean', clean)).verdict).toBe('pass')
      const failed = await inspect(station, 'ev-f-scratch', scratch)
      expect(failed.verdict).toBe('fail')
      expect([failed.width, failed.height]).toEqual([CAMERA.width, CAMERA.height])
      await waitFor(async () => (await storedSize('ev-f-scratch'))?.width === CAMERA.width, { timeoutMs: 30_000, what: 'the failing frame\'s original at camera resolution' })
      expect(await storedSize('ev-f-scratch')).toEqual(CAMERA)
      // the thumbnail is made again from the original: same aspect, 320 px wide
      expect(await storedSize('ev-f-scratch', 'thumbnail')).toEqual({ width: 320, height: 240 })
      // a frame sent at full size is its own original: nothing to ask for
      const full = sample('scratch')
      station.send({ frameId: 'ev-f-full', bytes: full.bytes, width: full.width, height: full.height })
      await waitFor(() => station.results.get('ev-f-full'), { timeoutMs: 60_000, what: 'the full frame\'s result' })
      expect(await storedSize('ev-f-full')).toEqual({ width: full.width, height: full.height })
      expect(station.evidenceRequests).toEqual(['ev-f-scratch'])
      expect(await storedSize('ev-f-clean')).toBeNull()
      // the record's detections were already in camera pixels and stay as they were
      const stored = (await (await server.admin('/api/v1/results/ev-f-scratch')).json()) as InspectionResult
      expect(stored.detections).toEqual(failed.detections)
      expect(await evidenceCount('ev-failing', 'requested')).toBe(1)
      expect(await evidenceCount('ev-failing', 'received')).toBe(1)
      expect(station.errors).toEqual([])
      expect(station.protocolErrors).toEqual([])
    } finally {
      await station.close()
    }
  }, 120_000)

  it('refuses an evidence setting that is not never, failing or all', async () => {
    const res = await server.admin('/api/v1/lines/ev-bad/settings', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ evidence: 'sometimes' }) })
    expect(res.status).toBe(422)
    expect(await res.text()).toContain('evidence')
  })

  it('asks for no original with `never`: the failing frame keeps its model-size image', async () => {
    const station = await connect('ev-never', 'never')
    try {
      const scratch = await cameraFrame('scratch', station.welcome.uplink!)
      answerFrom(station, new Map([['ev-n-scratch', scratch.original]]))
      expect((await inspect(station, 'ev-n-scratch', scratch)).verdict).toBe('fail')
      await waitFor(async () => (await storedSize('ev-n-scratch')) !== null, { timeoutMs: 30_000, what: 'the model-size image of the failing frame' })
      expect(await storedSize('ev-n-scratch')).toEqual(scratch.size)
      expect(station.evidenceRequests).toEqual([])
      expect(await evidenceCount('ev-never', 'requested')).toBe(0)
    } finally {
      await station.close()
    }
  }, 120_000)

  it('stores the original of every frame with `all`, passing ones too', async () => {
    const station = await connect('ev-all', 'all')
    try {
      const input = station.welcome.uplink!
      const clean = await cameraFrame('clean-part', input)
      const dent = await cameraFrame('dent', input)
      answerFrom(station, new Map([['ev-a-clean', clean.original], ['ev-a-dent', dent.original]]))
      expect((await inspect(station, 'ev-a-clean', clean)).verdict).toBe('pass')
      expect((await inspect(station, 'ev-a-dent', dent)).verdict).toBe('fail')
      for (const id of ['ev-a-clean', 'ev-a-dent']) {
        await waitFor(async () => (await storedSize(id))?.width === CAMERA.width, { timeoutMs: 30_000, what: `the original of ${id}` })
        expect(await storedSize(id)).toEqual(CAMERA)
      }
      expect(station.evidenceRequests.sort()).toEqual(['ev-a-clean', 'ev-a-dent'])
      expect(await evidenceCount('ev-all', 'received')).toBe(2)
    } finally {
      await station.close()
    }
  }, 120_000)

  it('refuses evidence for an unknown frame, sent twice, oversize or of another size; counts a station that no longer has it as missed', async () => {
    const station = await connect('ev-hostile')
    try {
      const input = station.welcome.uplink!
      const errorsFor = (frameId: string) => station.errors.filter((e) => e.frameId === frameId).map((e) => e.error.code)
      const scratch = await cameraFrame('scratch', input)

      // nobody asked for this one
      station.sendEvidence({ frameId: 'ev-h-unknown', bytes: scratch.original, ...CAMERA })
      await waitFor(() => errorsFor('ev-h-unknown').length > 0, { timeoutMs: 10_000, what: 'the refusal of unasked evidence' })
      expect(errorsFor('ev-h-unknown')).toEqual(['unexpected_evidence'])
      expect(await storedSize('ev-h-unknown')).toBeNull()

      // asked once, sent twice: the second is refused and the first stays
      answerFrom(station, new Map([['ev-h-twice', scratch.original]]))
      await inspect(station, 'ev-h-twice', scratch)
      await waitFor(async () => (await storedSize('ev-h-twice'))?.width === CAMERA.width, { timeoutMs: 30_000, what: 'the first evidence' })
      const other = await sharp(sample('dent').bytes).resize(CAMERA.width, CAMERA.height, { fit: 'fill' }).jpeg().toBuffer()
      station.sendEvidence({ frameId: 'ev-h-twice', bytes: other, ...CAMERA })
      await waitFor(() => errorsFor('ev-h-twice').length > 0, { timeoutMs: 10_000, what: 'the refusal of the second evidence' })
      expect(errorsFor('ev-h-twice')).toEqual(['unexpected_evidence'])
      const kept = Buffer.from(await (await server.admin('/api/v1/results/ev-h-twice/image?variant=original')).arrayBuffer())
      expect(kept.equals(scratch.original)).toBe(true)

      // asked, answered with a frame of another size: refused, nothing replaced
      station.onEvidenceRequest = (frameId) => station.sendEvidence({ frameId, bytes: scratch.small, ...scratch.size })
      await inspect(station, 'ev-h-size', scratch)
      await waitFor(() => errorsFor('ev-h-size').length > 0, { timeoutMs: 10_000, what: 'the refusal of a wrong-size original' })
      expect(errorsFor('ev-h-size')).toEqual(['bad_field'])
      expect(await storedSize('ev-h-size')).toEqual(scratch.size)

      // asked, answered with an original over MAX_FRAME_BYTES: refused before it is read
      // (one byte over: a message past the socket's own limit would close the connection, as for any frame)
      const oversize = Buffer.concat([scratch.original, Buffer.alloc(MAX_FRAME_BYTES + 1 - scratch.original.length)])
      station.onEvidenceRequest = (frameId) => station.sendEvidence({ frameId, bytes: oversize, ...CAMERA })
      const before = station.errors.length
      await inspect(station, 'ev-h-big', scratch)
      await waitFor(() => station.errors.slice(before).some((e) => e.error.code === 'too_large'), { timeoutMs: 10_000, what: 'the refusal of an oversize original' })
      expect(await storedSize('ev-h-big')).toEqual(scratch.size)

      // the station's ring no longer has it: counted missed, the verdict was already out
      const missedBefore = await evidenceCount('ev-hostile', 'missed')
      answerFrom(station, new Map())
      expect((await inspect(station, 'ev-h-gone', scratch)).verdict).toBe('fail')
      await waitFor(async () => (await evidenceCount('ev-hostile', 'missed')) > missedBefore, { timeoutMs: 10_000, what: 'the missed evidence to be counted' })
      expect(await evidenceCount('ev-hostile', 'refused')).toBe(3)
      expect(station.closed).toBe(false)
      expect(station.protocolErrors).toEqual([])
    } finally {
      await station.close()
    }
  }, 180_000)
})
