/**
 * `npm run bench -- [options]`. Defaults measure everything with three interleaved rounds;
 * `--quick` keeps every stage but one round of short windows (under a minute on two cores).
 */
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isSizeName, type SizeName } from './frames.ts'

export interface BenchOptions {
  quick: boolean
  /** Only re-render report.md and the charts from an existing results.json (after FINDINGS.md changed). */
  reportOnly: boolean
  rounds: number
  /** Measurement window per run, s. */
  seconds: number
  warmupMs: number
  sizes: SizeName[]
  rawBatches: number[]
  /** Stations streaming in the end-to-end and transport stages. */
  stations: number
  ceilingStations: number
  httpConcurrency: number
  profile: boolean
  /** A station's first load in Chromium (bench/first-load.ts); off with --no-first-load. */
  firstLoad: boolean
  /** Capture -> verdict at a station in Chromium (bench/station-latency.ts); off with --no-station-latency. */
  stationLatency: boolean
  modelsDir: string
  model: string
  /** Folder the report, results.json and charts are written to (absolute; a relative --out is under the checkout). */
  out: string
  /** Inference plan overrides, passed to the engine and the server alike (unset: the server's defaults). */
  env: Record<string, string>
}

/** `K=V,K=V` (a command-line option) as an environment: settings for a server under test. */
export function envList(list: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const kv of list.split(',').filter(Boolean)) {
    const i = kv.indexOf('=')
    env[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return env
}

const HELP = `npm run bench -- [--quick | --report-only] [--rounds N] [--seconds S] [--sizes vga,1mp,2mp,5mp] [--raw-batches 1,2,4,8]
  [--stations N] [--ceiling-stations N] [--http-concurrency N] [--no-profile] [--no-first-load] [--no-station-latency]
  [--workers N] [--threads N] [--batch N] [--full-frame-decoder libvips|turbojpeg] [--models DIR] [--model NAME] [--out DIR]`

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export function parseOptions(argv: string[]): BenchOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      sizes: { type: 'string' },
      'raw-batches': { type: 'string' },
      stations: { type: 'string', default: '4' },
      'ceiling-stations': { type: 'string', default: '8' },
      'http-concurrency': { type: 'string', default: '8' },
      'no-profile': { type: 'boolean', default: false },
      'no-first-load': { type: 'boolean', default: false },
      'no-station-latency': { type: 'boolean', default: false },
      workers: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      'full-frame-decoder': { type: 'string' },
      models: { type: 'string', default: 'models' },
      model: { type: 'string', default: 'detector' },
      out: { type: 'string', default: 'bench' },
      help: { type: 'boolean', default: false },
    },
  })
  if (v.help) {
    console.log(HELP)
    process.exit(0)
  }
  const quick = v.quick
  const int = (name: string, s: string | undefined, fallback: number) => {
    const n = s === undefined ? fallback : Number(s)
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a whole number >= 1, got ${s}`)
    return n
  }
  const sizes = (v.sizes ?? (quick ? 'vga,5mp' : 'vga,1mp,2mp,5mp')).split(',')
  for (const s of sizes) if (!isSizeName(s)) throw new RangeError(`--sizes: unknown size "${s}" (vga, 1mp, 2mp, 5mp)`)
  if (sizes[0] !== 'vga') throw new RangeError('--sizes must start with vga: the raw limit, end-to-end and ratios use the 640x480 frames')
  const env: Record<string, string> = {}
  if (v.workers !== undefined) env.INFERENCE_WORKERS = String(int('workers', v.workers, 1))
  if (v.threads !== undefined) env.INFERENCE_THREADS = String(int('threads', v.threads, 1))
  if (v.batch !== undefined) env.BATCH_MAX_SIZE = String(int('batch', v.batch, 1))
  // checked with every other setting by loadConfig(env), before anything is measured
  if (v['full-frame-decoder'] !== undefined) env.FULL_FRAME_DECODER = v['full-frame-decoder']
  // the model under test serves every stage: the engine (loadConfig(env)) and both servers read these
  const modelsDir = resolve(v.models)
  env.LINESIGHT_MODELS_DIR = modelsDir
  env.LINESIGHT_DEFAULT_MODEL = v.model
  const seconds = Number(v.seconds ?? (quick ? 1.5 : 4))
  if (!(seconds > 0)) throw new RangeError(`--seconds must be > 0, got ${v.seconds}`)
  return {
    quick,
    reportOnly: v['report-only'],
    rounds: int('rounds', v.rounds, quick ? 1 : 3),
    seconds,
    warmupMs: quick ? 500 : 1000,
    sizes: sizes as SizeName[],
    rawBatches: [...new Set([1, ...(v['raw-batches'] ?? (quick ? '1,4' : '1,2,4,8')).split(',').map((b) => int('raw-batches', b, 1))])],
    stations: int('stations', v.stations, 4),
    ceilingStations: int('ceiling-stations', v['ceiling-stations'], 8),
    httpConcurrency: int('http-concurrency', v['http-concurrency'], 8),
    profile: !v['no-profile'],
    firstLoad: !v['no-first-load'],
    stationLatency: !v['no-station-latency'],
    modelsDir,
    model: v.model,
    out: isAbsolute(v.out) ? v.out : resolve(ROOT, v.out),
    env,
  }
}
