/**
 * What the engine costs on top of the model: raw `session.run` frames/s on ready tensors (batch 1
 * and the best batch) against the engine's frames/s on JPEG frames (decode + letterbox + model +
 * decode/NMS, through the worker pool), at 640x480, 2 MP and 5 MP.
 *
 *   npx tsx server/inference/bench-engine.ts [--models models] [--model detector] [--seconds 5]
 *       [--sizes vga,2mp,5mp] [--workers N] [--threads N] [--batch N] [--delay ms] [--inflight N]
 *       [--raw-batches 1,2,4,8] [--raw-threads 1,2]
 *
 * "raw" is one session in this thread, at each of --raw-threads intra-op threads (default: 1 and
 * all cores); the ratios compare the engine with the best of them. CPU ms/frame counts every
 * thread of the process, so "model share" = raw CPU per frame (1 thread, batch 1) over the
 * engine's: what part of the engine's work is the model itself.
 *
 * Frames are tiles of the committed sample frames at native scale (camera-like JPEG detail, not
 * an upscaled blur). Prints one table and one JSON line; asserts nothing.
 */
import os from 'node:os'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import { inputSize, parseManifest, type DetectManifest } from '../../shared/domain/manifest.ts'
import { computeLetterbox } from '../../shared/inference/letterbox.ts'
import { createInferenceEngine } from './engine.ts'
import { configureSharp, letterboxInto } from './preprocess.ts'
import { planThreads } from './plan.ts'
import { sampleFrames } from './testing/fixtures.ts'

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'models' },
    model: { type: 'string', default: 'detector' },
    seconds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: 'vga,2mp,5mp' },
    workers: { type: 'string' },
    threads: { type: 'string' },
    batch: { type: 'string', default: '1' },
    delay: { type: 'string', default: '2' },
    inflight: { type: 'string' },
    'raw-batches': { type: 'string', default: '1,2,4,8' },
    'raw-threads': { type: 'string' },
  },
})
const seconds = Number(args.seconds)
const SIZES: Record<string, [number, number]> = { vga: [640, 480], '1mp': [1280, 800], '2mp': [1920, 1080], '5mp': [2592, 1944] }

/**
 * Frames per second, and CPU ms per frame: the process's CPU time (every thread: workers,
 * onnxruntime, libvips) over the frames done. On a shared machine wall-clock rates swing with
 * the neighbours' load; CPU per frame stays put, and cores / (CPU s per frame) bounds what a
 * dedicated machine reaches.
 */
interface Rate {
  fps: number
  cpuMsPerFrame: number
}

/** Runs `fn` back to back for the given time after a short warm-up; `fn` returns the frames it did. */
async function rate(fn: () => Promise<number>, secs: number): Promise<Rate> {
  const warmUntil = performance.now() + Math.min(1000, secs * 200)
  while (performance.now() < warmUntil) await fn()
  let n = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  while (performance.now() - t0 < secs * 1000) n += await fn()
  const cpu = process.cpuUsage(cpu0)
  return { fps: n / ((performance.now() - t0) / 1000), cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n }
}

/** `clients` concurrent callers loop for the given time (after a warm-up). */
async function sustained(fn: () => Promise<void>, clients: number, secs: number): Promise<Rate> {
  const t0 = performance.now()
  const start = t0 + Math.min(1000, secs * 200)
  const end = start + secs * 1000
  let n = 0
  let cpu0: NodeJS.CpuUsage | undefined
  const client = async () => {
    while (performance.now() < end) {
      await fn()
      const t = performance.now()
      if (t >= start && t < end) {
        cpu0 ??= process.cpuUsage()
        n++
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  const cpu = process.cpuUsage(cpu0)
  return { fps: n / secs, cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n }
}

async function rawSessionRate(manifest: DetectManifest, bytes: Uint8Array, threads: number, batches: number[]): Promise<Record<number, Rate>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] })
  const { width, height } = inputSize(manifest)
  const out: Record<number, Rate> = {}
  for (const b of batches) {
    const data = Float32Array.from({ length: b * 3 * width * height }, (_, i) => ((i * 2654435761) % 256) / 255)
    const feeds = { [manifest.input.name]: new ort.Tensor('float32', data, [b, 3, height, width]) }
    out[b] = await rate(async () => (await session.run(feeds), b), seconds)
  }
  await session.release()
  return out
}

/**
 * Decode + letterbox of one frame in this thread (libvips concurrency 1), three ways: as the
 * worker does it (JPEG shrink-on-load at up to 1/8 scale), with sharp's `fastShrinkOnLoad` off
 * (a gentler shrink-on-load), and decoding every pixel first (no shrink-on-load at all).
 */
async function preprocessAlone(jpeg: Uint8Array, size: { width: number; height: number }): Promise<Record<'shrinkOnLoad' | 'gentleShrink' | 'fullDecode', Rate>> {
  configureSharp(1)
  const out = new Float32Array(3 * size.width * size.height)
  const target = { ...size, pad: 114 }
  const once = (fast: boolean) => async () => (await letterboxInto(jpeg, out, target, { maxPixels: 1e9, fastShrinkOnLoad: fast }), 1)
  const { width, height } = await sharp(jpeg).metadata()
  const lb = computeLetterbox(width!, height!, size.width, size.height)
  // Every pixel decoded, then resized from the full-size raw image (the planar copy, ~0.3 ms, is left out).
  const full = async () => {
    const decoded = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true })
    await sharp(decoded.data, { raw: decoded.info }).resize(lb.resizedWidth, lb.resizedHeight, { fit: 'fill', kernel: 'linear' }).raw().toBuffer()
    return 1
  }
  const secs = Math.max(1, seconds / 2)
  return { shrinkOnLoad: await rate(once(true), secs), gentleShrink: await rate(once(false), secs), fullDecode: await rate(full, secs) }
}

async function tiledJpeg(width: number, height: number, tiles: Uint8Array[]): Promise<Uint8Array> {
  const meta = await sharp(tiles[0]!).metadata()
  const tw = meta.width!
  const th = meta.height!
  const composite = []
  let i = 0
  for (let y = 0; y < height; y += th) for (let x = 0; x < width; x += tw) composite.push({ input: Buffer.from(tiles[i++ % tiles.length]!), left: x, top: y })
  const canvas = await sharp({ create: { width: Math.ceil(width / tw) * tw, height: Math.ceil(height / th) * th, channels: 3, background: '#777' } })
    .composite(composite)
    .raw()
    .toBuffer({ resolveWithObject: true })
  return new Uint8Array(await sharp(canvas.data, { raw: canvas.info }).extract({ left: 0, top: 0, width, height }).jpeg({ quality: 90 }).toBuffer())
}

const cores = os.availableParallelism()
const plan = planThreads(cores, args.workers === undefined ? undefined : Number(args.workers), args.threads === undefined ? undefined : Number(args.threads))
const manifestFile = join(args.models, args.model, 'manifest.json')
const manifest = parseManifest(JSON.parse(await readFile(manifestFile, 'utf8')), manifestFile)
if (manifest.task !== 'detect') throw new Error(`${manifestFile}: not a detector`)
const bytes = new Uint8Array(await readFile(join(args.models, args.model, manifest.file)))

const rawBatches = [...new Set([1, ...args['raw-batches'].split(',').map(Number)])]
const rawThreadCounts = [...new Set((args['raw-threads'] ?? `1,${cores}`).split(',').map(Number))]
const rawRuns: { threads: number; batch: number; rate: Rate }[] = []
for (const t of rawThreadCounts) {
  const r = await rawSessionRate(manifest, bytes, t, rawBatches)
  for (const b of rawBatches) rawRuns.push({ threads: t, batch: b, rate: r[b]! })
}
const best = (runs: typeof rawRuns) => runs.reduce((a, b) => (b.rate.fps > a.rate.fps ? b : a))
const rawB1 = best(rawRuns.filter((r) => r.batch === 1))
const rawBest = best(rawRuns)
const modelCpu = (rawRuns.find((r) => r.threads === 1 && r.batch === 1) ?? rawB1).rate.cpuMsPerFrame

const engine = await createInferenceEngine({
  settings: {
    modelsDir: args.models,
    defaultModel: args.model,
    workers: plan.workers,
    threadsPerWorker: plan.threadsPerWorker,
    executionProviders: ['cpu'],
    epFallback: false,
    batchMaxSize: Number(args.batch),
    batchMaxDelayMs: Number(args.delay),
    watchdogTimeoutMs: 30_000,
    maxPixels: 40_000_000,
    modelsWatch: false,
    modelsWatchDebounceMs: 1000,
    watchdogMaxRestartsPerMinute: 5,
  },
  log: { info() {}, warn: (o, m) => console.warn(m, o), error: (o, m) => console.error(m, o) },
})

const samples = (await sampleFrames()).map((s) => s.bytes)
const inflight = Number(args.inflight ?? plan.workers * Math.max(2, Number(args.batch)) * 2)
const rows: { size: string; pixels: number; jpegKB: number; engineFps: number; cpuMsPerFrame: number; decodeMs: number; inferMsPerFrame: number; batch: number; alone: Awaited<ReturnType<typeof preprocessAlone>> }[] = []
for (const size of args.sizes.split(',')) {
  const [w, h] = SIZES[size] ?? (() => { throw new Error(`unknown size ${size}`) })()
  const frames = await Promise.all([0, 1, 2, 3].map((k) => tiledJpeg(w, h, samples.slice(k).concat(samples.slice(0, k)))))
  let decodeMs = 0
  let inferMs = 0
  let batchSum = 0
  let n = 0
  let next = 0
  const one = async () => {
    const o = await engine.infer({ frameId: `b${next}`, image: new Uint8Array(frames[next++ % frames.length]!) })
    decodeMs += o.timings.decode
    inferMs += o.timings.infer / o.batchSize
    batchSum += o.batchSize
    n++
  }
  // `inflight` concurrent callers keep every worker fed, as the queue's prefetch does.
  const r = await sustained(one, inflight, seconds)
  const alone = await preprocessAlone(frames[0]!, inputSize(manifest))
  rows.push({ alone, size: `${w}x${h}`, pixels: w * h, jpegKB: Math.round(frames[0]!.length / 1024), engineFps: r.fps, cpuMsPerFrame: r.cpuMsPerFrame, decodeMs: decodeMs / n, inferMsPerFrame: inferMs / n, batch: batchSum / n })
}
await engine.close()

const f = (x: number) => x.toFixed(1)
const f2 = (x: number) => x.toFixed(2)
console.log(`cores ${cores}; engine ${plan.workers} worker(s) x ${plan.threadsPerWorker} thread(s), BATCH_MAX_SIZE=${args.batch}, BATCH_MAX_DELAY_MS=${args.delay}, ${inflight} in flight`)
for (const t of rawThreadCounts) {
  const runs = rawRuns.filter((r) => r.threads === t)
  console.log(`raw session.run, ${t} thread(s), ready tensors: ${runs.map((r) => `batch ${r.batch}: ${f(r.rate.fps)} frames/s (${f2(r.rate.cpuMsPerFrame)} CPU ms/frame)`).join('; ')}`)
}
console.log(`best raw at batch 1: ${f(rawB1.rate.fps)} frames/s (${rawB1.threads} thread(s)); best raw: ${f(rawBest.rate.fps)} frames/s (${rawBest.threads} thread(s), batch ${rawBest.batch})`)
console.log('frame       JPEG KB  engine frames/s  CPU ms/frame  decode+letterbox ms  model ms/frame  mean batch  engine/raw(b1)  engine/raw(best)  model share')
for (const r of rows) {
  console.log(
    [
      r.size.padEnd(11),
      String(r.jpegKB).padStart(7),
      f(r.engineFps).padStart(15),
      f2(r.cpuMsPerFrame).padStart(12),
      f(r.decodeMs).padStart(19),
      f2(r.inferMsPerFrame).padStart(14),
      f(r.batch).padStart(10),
      (r.engineFps / rawB1.rate.fps).toFixed(2).padStart(14),
      (r.engineFps / rawBest.rate.fps).toFixed(2).padStart(16),
      (modelCpu / r.cpuMsPerFrame).toFixed(2).padStart(11),
    ].join('  '),
  )
}
console.log('\ndecode + letterbox alone, one frame at a time in one thread (ms per frame: wall / CPU):')
console.log('frame       shrink-on-load   fastShrinkOnLoad off   every pixel decoded')
for (const r of rows) {
  const c = (x: Rate) => `${f2(1000 / x.fps)} / ${f2(x.cpuMsPerFrame)}`.padStart(13)
  console.log(`${r.size.padEnd(11)} ${c(r.alone.shrinkOnLoad).padStart(14)}   ${c(r.alone.gentleShrink).padStart(20)}   ${c(r.alone.fullDecode).padStart(19)}`)
}
console.log(JSON.stringify({ cores, plan: { workers: plan.workers, threads: plan.threadsPerWorker }, batch: Number(args.batch), raw: rawRuns, rawB1, rawBest, rows }))
