/**
 * `npm run bench:candidate-priority -- [--rounds 8] [--seconds 4] [--rate 20]`: where a candidate
 * runs, measured at the inference engine alone, side by side in one process (issue 17).
 *
 * The current model (the default detector) serves frames at `--rate` frames/s, open loop, on a
 * verdict engine planned as a server plans it (one single-threaded worker per core). Meanwhile,
 * in each block, the real-size candidate (`npm run models:realsize -- --names line --sizes 320`)
 * runs back to back with one inference always in flight, with no gate at all (the worst case the
 * shadow runner's gates only make rarer), either
 *   none:   not at all;
 *   shared: on the verdict engine, as candidates ran before CANDIDATE_WORKERS;
 *   own:    on a candidate engine of its own (server/wiring/engine.ts `openCandidateEngine`'s
 *           settings: one worker, one onnxruntime thread, nice 19).
 * Rounds rotate the order of the three blocks. Prints the current model's infer() latency p50/p99
 * per block and the medians of the per-round ratios shared/none and own/none, and how many
 * candidate frames each block got through. Reports, never asserts; writes nothing.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { inputSize, parseManifest } from '../shared/domain/manifest.ts'
import { createInferenceEngine, type EngineSettings, type PoolInferenceEngine } from '../server/inference/engine.ts'
import { frameSet, modelSizeSet } from './frames.ts'
import { loadAverage } from './machine.ts'
import { latencyOf, median } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: v } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '4' },
    rate: { type: 'string', default: '20' },
    'realsize-dir': { type: 'string', default: join(ROOT, 'bench/out/realsize-models') },
  },
})
const rounds = Number(v.rounds)
const seconds = Number(v.seconds)
const rate = Number(v.rate)
if (![rounds, seconds].every((n) => Number.isInteger(n) && n >= 1) || !(rate > 0)) throw new Error('--rounds and --seconds must be whole numbers >= 1, --rate > 0')
const CANDIDATE = 'realsize-line-320'

const models = await mkdtemp(join(tmpdir(), 'linesight-bench-priority-'))
await cp(join(ROOT, 'models/detector'), join(models, 'detector'), { recursive: true })
await cp(join(v['realsize-dir'], CANDIDATE), join(models, CANDIDATE), { recursive: true }).catch(() => {
  throw new Error(`no ${CANDIDATE} in ${v['realsize-dir']}: run \`npm run models:realsize -- --names line --sizes 320\` first`)
})
const detector = parseManifest(JSON.parse(await readFile(join(ROOT, 'models/detector/manifest.json'), 'utf8')), 'models/detector/manifest.json')
const frames = await modelSizeSet(await frameSet('vga'), inputSize(detector))
const quiet = { info() {}, warn() {}, error() {} }
const base: EngineSettings = {
  modelsDir: models,
  defaultModel: 'detector',
  executionProviders: ['cpu'],
  epFallback: true,
  batchMaxSize: 1,
  batchMaxDelayMs: 0,
  watchdogTimeoutMs: 60_000,
  maxPixels: 40_000_000,
  modelsWatch: false,
  modelsWatchDebounceMs: 1000,
  watchdogMaxRestartsPerMinute: 5,
}
// the verdict engine loads every model (so `shared` can run the candidate on it), planned from the cores
const verdicts = await createInferenceEngine({ settings: base, log: quiet })
const own = await createInferenceEngine({ settings: { ...base, workers: 1, threadsPerWorker: 1 }, log: quiet, models: 'on-demand', background: true })

type Mode = 'none' | 'shared' | 'own'
let seq = 0
const image = () => new Uint8Array(frames.jpegs[seq++ % frames.jpegs.length]!)

/** One block: the current model at `rate` for `seconds`, the candidate back to back on `mode`'s engine. */
async function block(mode: Mode, s: number): Promise<{ latency: ReturnType<typeof latencyOf>; candidateFrames: number }> {
  const engine: PoolInferenceEngine | undefined = mode === 'shared' ? verdicts : mode === 'own' ? own : undefined
  let stop = false
  let candidateFrames = 0
  const candidate = (async () => {
    while (engine && !stop) {
      await engine.infer({ frameId: `c${seq}`, image: image(), model: CANDIDATE })
      candidateFrames++
    }
  })()
  const latencies: number[] = []
  const pending: Promise<void>[] = []
  const start = performance.now()
  for (let i = 0; i < rate * s; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const t0 = performance.now()
    pending.push(verdicts.infer({ frameId: `v${seq}`, image: image(), model: 'detector' }).then(() => void latencies.push(performance.now() - t0)))
  }
  await Promise.all(pending)
  stop = true
  await candidate
  return { latency: latencyOf(latencies), candidateFrames }
}

try {
  const load0 = loadAverage()
  // unmeasured: JIT, caches, the candidate's session on its own engine
  for (const m of ['none', 'shared', 'own'] as const) await block(m, 1)
  console.log(`current: detector at ${rate} frames/s on ${verdicts.status().workers} verdict workers (${os.availableParallelism()} cores); candidate: ${CANDIDATE}, one always in flight; ${frames.width}x${frames.height} frames; ${rounds} rounds of 3 x ${seconds} s; load average ${load0.one.toFixed(2)}`)
  console.log(`candidate engine threads: ${JSON.stringify(own.threads())}`)
  const ratio = { shared: { p50: [] as number[], p99: [] as number[] }, own: { p50: [] as number[], p99: [] as number[] } }
  const done = { shared: 0, own: 0 }
  const orders: Mode[][] = [['none', 'shared', 'own'], ['own', 'none', 'shared'], ['shared', 'own', 'none']]
  for (let i = 0; i < rounds; i++) {
    const r = new Map<Mode, Awaited<ReturnType<typeof block>>>()
    for (const m of orders[i % orders.length]!) r.set(m, await block(m, seconds))
    const none = r.get('none')!.latency
    for (const m of ['shared', 'own'] as const) {
      ratio[m].p50.push(r.get(m)!.latency.p50 / none.p50)
      ratio[m].p99.push(r.get(m)!.latency.p99 / none.p99)
      done[m] += r.get(m)!.candidateFrames
    }
    console.log(`round ${i + 1}: ${(['none', 'shared', 'own'] as const).map((m) => `${m} p50 ${r.get(m)!.latency.p50.toFixed(1)} / p99 ${r.get(m)!.latency.p99.toFixed(1)} ms (candidate ${r.get(m)!.candidateFrames} frames)`).join('; ')}`)
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(3)} (rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`
  console.log(`shared/none (median): p50 ${fmt(ratio.shared.p50)}, p99 ${fmt(ratio.shared.p99)}; candidate frames ${done.shared}`)
  console.log(`own/none (median):    p50 ${fmt(ratio.own.p50)}, p99 ${fmt(ratio.own.p99)}; candidate frames ${done.own}`)
  console.log(`load average ${load0.one.toFixed(2)} -> ${loadAverage().one.toFixed(2)}`)
} finally {
  await own.close()
  await verdicts.close()
  await rm(models, { recursive: true, force: true })
}
