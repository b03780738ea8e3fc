/**
 * Execution providers side by side: the same model, the same letterboxed sample frames, each
 * provider of onnxruntime-node in turn. Reports per provider whether it loaded (and why not),
 * latency at batch 1 and throughput at batch 8, and how far its outputs are from the CPU
 * provider's (largest raw difference, detections matched at IoU >= 0.9 with the shared decoder).
 *
 * Two steps, so the second can run on a GPU host that has neither sharp nor the repository's
 * node_modules (it is bundled into one file with esbuild; see docs/gpu.md):
 *
 *   npx tsx bench/ep-compare.ts prepare --out DIR [--sizes 320,640]
 *   npx tsx bench/ep-compare.ts run --inputs DIR --model NAME=FILE.onnx[:classesFile] ... \
 *       [--eps cpu,webgpu] [--iters 50] [--json FILE]
 *
 * `prepare` letterboxes models/samples/*.jpg with the server's own preprocessing and writes each
 * as planar RGB bytes (gzip) with its geometry; `run` turns them into the model's float input.
 */
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join, resolve, basename } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { performance } from 'node:perf_hooks'
import * as ort from 'onnxruntime-node'
import { decodeDetections } from '../shared/inference/decode.ts'
import { matchDetections } from '../shared/inference/match.ts'
import type { Letterbox } from '../shared/inference/letterbox.ts'

interface PreparedFrame {
  file: string
  size: number
  width: number
  height: number
  letterbox: Letterbox
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

function args(all: string[], name: string): string[] {
  return all.flatMap((a, i) => (a === name && all[i + 1] !== undefined ? [all[i + 1]!] : []))
}

async function prepare(argv: string[]): Promise<void> {
  const out = resolve(arg(argv, '--out') ?? 'bench/out/ep-inputs')
  const sizes = (arg(argv, '--sizes') ?? '320,640').split(',').map(Number)
  // sharp only here: the run step must work where it is not installed
  const { letterboxInto } = await import('../server/inference/preprocess.ts')
  const { PixelBuffers } = await import('../server/inference/pixels.ts')
  const samples = resolve('models/samples')
  const frames: PreparedFrame[] = []
  mkdirSync(out, { recursive: true })
  for (const size of sizes) {
    for (const file of readdirSync(samples).filter((f) => f.endsWith('.jpg')).sort()) {
      const pixels = new PixelBuffers({ width: size, height: size, pad: 114 }, 1)
      const p = await letterboxInto(readFileSync(join(samples, file)), pixels, 0, { maxPixels: 50_000_000 })
      const bytes = Uint8Array.from(pixels.tensor, (v) => Math.round(v * 255))
      writeFileSync(join(out, `${basename(file, '.jpg')}-${size}.u8.gz`), gzipSync(bytes))
      frames.push({ file, size, width: p.width, height: p.height, letterbox: p.letterbox })
    }
  }
  writeFileSync(join(out, 'frames.json'), JSON.stringify(frames, null, 1))
  console.log(`prepared ${frames.length} frames in ${out}`)
}

interface ModelArg {
  name: string
  file: string
  classes: string[]
  threshold: number
}

function parseModel(spec: string): ModelArg {
  const m = /^([^=]+)=([^:]+)(?::(.+))?$/.exec(spec)
  if (!m) throw new Error(`--model NAME=FILE.onnx[:manifest.json], got "${spec}"`)
  if (m[3]) {
    const manifest = JSON.parse(readFileSync(m[3], 'utf8')) as { classes: string[] }
    return { name: m[1]!, file: m[2]!, classes: manifest.classes, threshold: 0.25 }
  }
  return { name: m[1]!, file: m[2]!, classes: [], threshold: 0.25 }
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

interface EpReport {
  ep: string
  loaded: boolean
  error?: string
  loadMs?: number
  batch1?: { p50Ms: number; p95Ms: number; iters: number }
  batch8?: { framesPerSecond: number; iters: number }
  /** Against the CPU provider on the same inputs. */
  parity?: { maxAbsDiff: number; detections: number; matched: number; onlyThis: number; onlyCpu: number }
}

async function run(argv: string[]): Promise<void> {
  const dir = resolve(arg(argv, '--inputs') ?? 'bench/out/ep-inputs')
  const eps = (arg(argv, '--eps') ?? 'cpu,webgpu').split(',')
  const iters = Number(arg(argv, '--iters') ?? 50)
  const models = args(argv, '--model').map(parseModel)
  if (!models.length) throw new Error('name at least one --model NAME=FILE.onnx')
  const frames = JSON.parse(readFileSync(join(dir, 'frames.json'), 'utf8')) as PreparedFrame[]
  const report: Record<string, unknown> = { node: process.version, ort: ort.env.versions, backends: ort.listSupportedBackends(), models: [] as unknown[] }

  for (const model of models) {
    const bytes = readFileSync(model.file)
    const probe = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] })
    const inputName = probe.inputNames[0]!
    const outputName = probe.outputNames[0]!
    const meta = probe.inputMetadata[0]
    const shape = meta && 'shape' in meta ? (meta.shape as (number | string)[]) : []
    const size = Number(shape[shape.length - 1])
    await probe.release()
    const mine = frames.filter((f) => f.size === size)
    if (!mine.length) throw new Error(`no prepared frames of size ${size} for ${model.name}`)
    const inputs = mine.map((f) => Float32Array.from(gunzipSync(readFileSync(join(dir, `${basename(f.file, '.jpg')}-${size}.u8.gz`))), (v) => v / 255))
    const plane = 3 * size * size

    const cpuOutputs: ort.Tensor[] = []
    const entries: EpReport[] = []
    for (const ep of eps) {
      const entry: EpReport = { ep, loaded: false }
      entries.push(entry)
      let session: ort.InferenceSession
      const t0 = performance.now()
      try {
        session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' })
      } catch (e) {
        entry.error = (e as Error).message
        continue
      }
      entry.loaded = true
      entry.loadMs = performance.now() - t0
      const feed = (data: Float32Array, n: number) => ({ [inputName]: new ort.Tensor('float32', data, [n, 3, size, size]) })

      // parity first: it is also the warm-up
      let maxAbsDiff = 0
      let detections = 0
      let matched = 0
      let onlyThis = 0
      let onlyCpu = 0
      for (const [i, input] of inputs.entries()) {
        const out = (await session.run(feed(input, 1)))[outputName]!
        if (ep === 'cpu') cpuOutputs[i] = out
        const ref = cpuOutputs[i]
        if (!ref) continue
        const a = out.data as Float32Array
        const b = ref.data as Float32Array
        for (let k = 0; k < a.length; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k]! - b[k]!))
        const classes = model.classes.length ? model.classes : Array.from({ length: out.dims[1]! - 4 }, (_, c) => `c${c}`)
        const opts = { classes, scoreThreshold: model.threshold, iouThreshold: 0.45, letterbox: mine[i]!.letterbox }
        const mineDet = decodeDetections({ data: a, dims: out.dims }, opts)
        const refDet = decodeDetections({ data: b, dims: ref.dims }, opts)
        const m = matchDetections(mineDet, refDet, 0.9)
        detections += refDet.length
        matched += m.matched
        onlyThis += m.onlyA
        onlyCpu += m.onlyB
      }
      if (cpuOutputs.length) entry.parity = { maxAbsDiff, detections, matched, onlyThis, onlyCpu }

      const times: number[] = []
      for (let i = 0; i < iters; i++) {
        const t = performance.now()
        await session.run(feed(inputs[i % inputs.length]!, 1))
        times.push(performance.now() - t)
      }
      entry.batch1 = { p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), iters }

      const batch = new Float32Array(8 * plane)
      for (let b = 0; b < 8; b++) batch.set(inputs[b % inputs.length]!, b * plane)
      const batchIters = Math.max(3, Math.round(iters / 4))
      await session.run(feed(batch, 8))
      const tb = performance.now()
      for (let i = 0; i < batchIters; i++) await session.run(feed(batch, 8))
      entry.batch8 = { framesPerSecond: (8 * batchIters * 1000) / (performance.now() - tb), iters: batchIters }
      await session.release()
      console.error(`${model.name} ${ep}: ${JSON.stringify(entry)}`)
    }
    ;(report.models as unknown[]).push({ name: model.name, file: basename(model.file), input: size, providers: entries })
  }
  const json = JSON.stringify(report, null, 1)
  const out = arg(argv, '--json')
  if (out) writeFileSync(out, json)
  console.log(json)
}

const [command, ...rest] = process.argv.slice(2)
if (command === 'prepare') await prepare(rest)
else if (command === 'run') await run(rest)
else {
  console.error('usage: ep-compare.ts prepare --out DIR | run --inputs DIR --model NAME=FILE.onnx ...')
  process.exit(2)
}
