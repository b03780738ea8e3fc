/**
 * The model-size uplink end to end through a real server: a station that resizes its frames to the
 * model input announced in `welcome` gets the same detections, in camera pixels, as one that sends
 * full frames, for a fraction of the bytes. The resize here is sharp's (what a station's GPU does
 * is in test/e2e); the station encodes at its own JPEG quality (client/config.ts).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MODEL_SIZE_JPEG_QUALITY } from '../../client/config.ts'
import { parseManifest } from '../../shared/domain/manifest.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { iou, uplinkSize } from '../../shared/inference/letterbox.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { StationClient } from '../helpers/station-client.ts'

let server: RunningServer
let station: Awaited<ReturnType<typeof StationClient.connect>>
const samples = loadSamples()

beforeAll(async () => {
  server = await startServer()
  station = await StationClient.connect(server.url, { line: 'uplink-size', station: 'tablet-1' })
}, 120_000)

afterAll(async () => {
  await station?.close()
  await server?.stop()
})

const manifest = parseManifest(JSON.parse(readFileSync(join(ROOT, 'models/detector/manifest.json'), 'utf8')), 'models/detector/manifest.json')
/**
 * A detection scoring within 0.1 of its class threshold flickers with any change of pixels (a
 * re-encode, camera noise) and is not a stable thing to compare; everything above is.
 */
const MARGIN = 0.1
const thresholds = manifest.thresholds.score
const clear = (d: { class: string; score: number }) => d.score >= (typeof thresholds === 'number' ? thresholds : (thresholds[d.class] ?? 0)) + MARGIN

async function resultOf(frameId: string): Promise<InspectionResult> {
  await station.settled()
  const r = station.results.get(frameId)?.[0]
  if (!r) throw new Error(`no result for ${frameId}: ${JSON.stringify(station.acks.get(frameId))}`)
  return r
}

describe('model-size uplink', () => {
  it('announces the serving model input in welcome', () => {
    expect(station.welcome.uplink).toEqual({ width: 320, height: 320 })
  })

  it('gives the same detections in camera pixels as full frames, for at least 4x fewer bytes', async () => {
    const input = station.welcome.uplink!
    let fullBytes = 0
    let smallBytes = 0
    for (const s of samples) {
      const frame = { width: s.width, height: s.height }
      const size = uplinkSize(frame, input)
      const small = await sharp(s.bytes).resize(size.width, size.height, { fit: 'fill', kernel: 'linear' }).jpeg({ quality: Math.round(MODEL_SIZE_JPEG_QUALITY * 100) }).toBuffer()
      fullBytes += s.bytes.length
      smallBytes += small.length
      station.send({ frameId: `full-${s.case}`, bytes: s.bytes, width: s.width, height: s.height })
      station.send({ frameId: `small-${s.case}`, bytes: small, width: size.width, height: size.height, from: frame })
      const full = await resultOf(`full-${s.case}`)
      const got = await resultOf(`small-${s.case}`)
      expect([got.width, got.height], s.case).toEqual([s.width, s.height])
      expect(got.verdict, s.case).toBe(full.verdict)
      // both ways: every clear detection of one has its twin in the other
      for (const [a, b] of [[full, got], [got, full]] as const) {
        for (const d of a.detections.filter(clear)) {
          const best = Math.max(0, ...b.detections.filter((g) => g.class === d.class).map((g) => iou(g.box, d.box)))
          expect(best, `${s.case}: ${d.class} ${d.score.toFixed(2)} at ${d.box.map((v) => v.toFixed(0)).join(',')}`).toBeGreaterThanOrEqual(0.9)
        }
      }
    }
    expect(fullBytes / smallBytes).toBeGreaterThanOrEqual(4)
  }, 180_000)

  it('refuses a frame that claims to be larger than the camera frame it came from', async () => {
    const s = samples[0]!
    station.send({ frameId: 'grown', bytes: s.bytes, width: s.width, height: s.height, from: { width: 320, height: 240 } })
    await station.settled()
    expect(station.acks.get('grown')?.at(-1)).toMatchObject({ status: 'rejected', error: { code: 'bad_field' } })
  })
})
