/**
 * FULL_FRAME_DECODER=turbojpeg end to end: a server started with it answers POST /api/v1/detect
 * on the 640x480 samples with exactly the detections of TurboJPEG plus Ultralytics' resize
 * (linear-shrink.ts) computed here, not libvips', and still finds the ground truth the golden
 * file says the default detector finds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { decode, missing, parityProblems, readGolden } from '../helpers/golden.ts'
import { loadDetector, nodeRuntime, prepare, type Runtime } from '../helpers/runtimes.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { FullFrameDecoder } from '../../server/inference/types.ts'

let server: RunningServer
let runtime: Runtime
let manifest: DetectManifest
const samples = loadSamples()
const golden = new Map(readGolden().samples.map((g) => [g.file, g.knownMisses]))

beforeAll(async () => {
  const d = await loadDetector()
  manifest = d.manifest
  runtime = await nodeRuntime(d.file, manifest)
  server = await startServer({ env: { FULL_FRAME_DECODER: 'turbojpeg' } })
}, 120_000)
afterAll(async () => {
  await runtime?.close()
  await server?.stop()
})

async function expected(bytes: Uint8Array, fullFrameDecoder: FullFrameDecoder) {
  const { input, letterbox } = await prepare(bytes, manifest, { fullFrameDecoder })
  return decode(await runtime.run(input), manifest, letterbox)
}

describe('FULL_FRAME_DECODER=turbojpeg', () => {
  it('detects on full frames with the TurboJPEG path, finding the same ground truth', async () => {
    let unlikeLibvips = 0
    for (const s of samples) {
      const res = await server.admin('/api/v1/detect?line=L1&station=S1', { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: s.bytes as BodyInit })
      expect(res.status, s.file).toBe(200)
      const got = ((await res.json()) as InspectionResult).detections
      expect(parityProblems(await expected(s.bytes, 'turbojpeg'), got), s.file).toEqual([])
      expect(missing(s.boxes, got), s.file).toEqual((golden.get(s.file) ?? []).map((k) => expect.objectContaining({ class: k.class })))
      if (parityProblems(await expected(s.bytes, 'libvips'), got).length > 0) unlikeLibvips++
    }
    // the setting reached the workers: libvips' detections differ on some samples
    expect(unlikeLibvips).toBeGreaterThan(0)
  }, 120_000)
})
