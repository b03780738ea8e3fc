/**
 * The parts video (`npm run models:y4m -- out.y4m --parts N`) holds what its truth says: the same
 * seed makes the same file; each part's frames show a part whose QR code reads as its id, and the
 * default detector (onnxruntime-node, the server's preprocessing) gives the truth's verdict on
 * every sharp frame of the passage; the gaps between parts show empty belt.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verdictOf } from '../../shared/domain/verdict.ts'
import { decode } from '../../test/helpers/golden.ts'
import { loadDetector, nodeRuntime, prepare, type Runtime } from '../../test/helpers/runtimes.ts'
import { ROOT } from '../../test/helpers/server.ts'
import type { PartsTruth } from './parts-video.ts'
import { truthPathOf, writePartsVideo } from './y4m.ts'

const PARTS = 6
const SEED = 20261205

/** Frame k of a 4:2:0 full-range .y4m as PNG (the inverse of y4m.ts's conversion). */
function frameOf(video: Buffer, k: number): Promise<Buffer> {
  const header = video.subarray(0, video.indexOf(0x0a)).toString()
  const width = Number(/ W(\d+)/.exec(header)![1])
  const height = Number(/ H(\d+)/.exec(header)![1])
  const frameBytes = 'FRAME\n'.length + (width * height * 3) / 2
  const start = header.length + 1 + k * frameBytes + 'FRAME\n'.length
  const y = video.subarray(start, start + width * height)
  const u = video.subarray(start + width * height, start + width * height + (width * height) / 4)
  const v = video.subarray(start + width * height + (width * height) / 4, start + (width * height * 3) / 2)
  const rgb = Buffer.alloc(width * height * 3)
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)))
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const c = (py >> 1) * (width / 2) + (px >> 1)
      const Y = y[py * width + px]!
      const U = u[c]! - 128
      const V = v[c]! - 128
      const o = (py * width + px) * 3
      rgb[o] = clamp(Y + 1.402 * V)
      rgb[o + 1] = clamp(Y - 0.344136 * U - 0.714136 * V)
      rgb[o + 2] = clamp(Y + 1.772 * U)
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer()
}

describe('the parts video', () => {
  let tmp: string
  let video: Buffer
  let truth: PartsTruth & { fps: number }
  let runtime: Runtime
  let detect: (png: Buffer) => Promise<{ class: string }[]>
  let defectClasses: string[]

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'linesight-parts-video-'))
    await writePartsVideo(join(tmp, 'parts.y4m'), { parts: PARTS, seed: SEED }, 5)
    video = await readFile(join(tmp, 'parts.y4m'))
    truth = JSON.parse(await readFile(truthPathOf(join(tmp, 'parts.y4m')), 'utf8')) as PartsTruth & { fps: number }
    const { manifest, file } = await loadDetector()
    defectClasses = manifest.defectClasses
    runtime = await nodeRuntime(file, manifest)
    detect = async (png) => {
      // the station sends JPEG; the server decodes and letterboxes it
      const { input, letterbox } = await prepare(await sharp(png).jpeg({ quality: 85 }).toBuffer(), manifest)
      return decode(await runtime.run(input), manifest, letterbox)
    }
    prepareZXingModule({ overrides: { wasmBinary: (await readFile(join(ROOT, 'node_modules/zxing-wasm/dist/reader/zxing_reader.wasm'))).buffer as ArrayBuffer } })
  }, 60_000)

  afterAll(async () => {
    await runtime?.close()
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('is the same for the same seed, with both verdicts and distinct ids', async () => {
    await writePartsVideo(join(tmp, 'again.y4m'), { parts: PARTS, seed: SEED }, 5)
    const again = await readFile(join(tmp, 'again.y4m'))
    expect(createHash('sha256').update(again).digest('hex')).toBe(createHash('sha256').update(video).digest('hex'))
    expect(truth.parts).toHaveLength(PARTS)
    expect(new Set(truth.parts.map((p) => p.partId)).size).toBe(PARTS)
    expect(new Set(truth.parts.map((p) => p.verdict))).toEqual(new Set(['pass', 'fail']))
    const header = video.subarray(0, video.indexOf(0x0a)).toString()
    expect(video.length).toBe(header.length + 1 + truth.frames * ('FRAME\n'.length + (640 * 480 * 3) / 2))
  })

  it('shows each part with its code and the verdict the truth gives, and empty belt between', async () => {
    for (const part of truth.parts) {
      const [first, last] = part.frames
      // the sharp frames of the passage (its first and last are blurred: entering and leaving)
      for (let k = first + 1; k < last; k++) {
        const png = await frameOf(video, k)
        const detections = await detect(png)
        expect(detections.some((d) => d.class === 'part'), `${part.partId} frame ${k}`).toBe(true)
        expect(verdictOf(detections, defectClasses), `${part.partId} (${part.file}) frame ${k}`).toBe(part.verdict)
        const codes = await readBarcodes(png, { formats: ['QRCode'] })
        expect(codes.map((c) => c.text)).toEqual([part.partId])
      }
      const gap = await detect(await frameOf(video, first - 1))
      expect(gap, `the belt before ${part.partId}`).toEqual([])
    }
  }, 120_000)
})
