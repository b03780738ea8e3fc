/**
 * What evidence on demand costs per original the server receives (ARCHITECTURE.md, "Evidence on
 * demand"): the original's bytes on the uplink against the model-size frame's, and the thumbnail
 * the store makes again from it (server/storage/images.ts `makeThumbnail`, on libuv's pool, not
 * the main thread). A sample frame scaled to common camera sizes, JPEG q 0.9 as the station sends.
 *
 *   npx tsx bench/evidence-cost.ts [--runs 21]
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import sharp from 'sharp'
import { uplinkSize } from '../shared/inference/letterbox.ts'
import { makeThumbnail } from '../server/storage/images.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } })
const runs = Math.max(1, Number(values.runs))
const source = readFileSync(join(import.meta.dirname, '../models/samples/scratch.jpg'))
const MODEL_INPUT = { width: 320, height: 320 }

for (const camera of [{ width: 640, height: 480 }, { width: 1280, height: 960 }, { width: 1920, height: 1080 }]) {
  const original = new Uint8Array(await sharp(source).resize(camera.width, camera.height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer())
  const size = uplinkSize(camera, MODEL_INPUT)
  const small = await sharp(source).resize(size.width, size.height, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer()
  await makeThumbnail(original) // warm-up
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await makeThumbnail(original)
    ms.push(performance.now() - t)
  }
  ms.sort((a, b) => a - b)
  console.log(`${camera.width}x${camera.height}: original ${original.length} B, model-size ${size.width}x${size.height} ${small.length} B (${(original.length / small.length).toFixed(1)}x), thumbnail p50 ${ms[Math.floor(runs / 2)]!.toFixed(1)} ms wall`)
}
