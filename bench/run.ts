/**
 * `npm run bench`: every stage of linesight side by side with its limit, in one run, on this
 * machine, as ratios. Writes bench/results.json, bench/report.md and the charts bench/*.svg.
 *
 *   1. raw limit: session.run on ready tensors, in the engine's worker layout
 *   2. engine: JPEG frames through createInferenceEngine (640x480 to 5 MP), beside the decode
 *      bound and the bare pipeline
 *   3. end to end: a real server process, a load-generator process over /ws/station and
 *      POST /api/v1/detect; latency at half load
 *   4. transport: uWebSockets.js against ws, same handler, 100 KB frames
 *   5. gateway ceiling: the real server with a no-op model, 100 KB frames
 *   6. first load: a station page in Chromium over an emulated Wi-Fi link, compressed and not
 *
 * Rounds interleave the stages (see rounds.ts); results are medians. `--help` for options.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromiumMissing } from '../test/helpers/browser.ts'
import { measureFirstLoad } from './first-load.ts'
import { measureStationLatency } from './station-latency.ts'
import { loadConfig } from '../server/config/index.ts'
import { halfLoad, profiledRuns, warmUp, type HalfLoad } from './latency-and-profile.ts'
import { loadAverage, machineInfo, modelInfo } from './machine.ts'
import { parseOptions } from './options.ts'
import { charts } from './report/charts.ts'
import { reportMarkdown } from './report/markdown.ts'
import { buildResults, type Results } from './results.ts'
import { startRig, stopRig } from './rig.ts'
import { runRound, type Round } from './rounds.ts'
import { median } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

async function writeReport(results: Results, out: string): Promise<string[]> {
  const findingsFile = join(ROOT, 'bench/FINDINGS.md')
  const findings = existsSync(findingsFile) ? await readFile(findingsFile, 'utf8') : undefined
  const files = charts(results)
  for (const [file, svg] of Object.entries(files)) await writeFile(join(out, file), svg)
  await writeFile(join(out, 'report.md'), reportMarkdown(results, findings))
  return ['report.md', ...Object.keys(files)]
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2))
  const out = opts.out
  if (opts.reportOnly) {
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results
    console.log(`re-rendered ${(await writeReport(results, out)).join(', ')} from ${join(out, 'results.json')}`)
    return
  }
  const t0 = performance.now()
  const startedAt = new Date().toISOString()
  const loadStart = loadAverage()
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`
  const log = (line: string) => console.log(`[bench ${elapsed()}] ${line}`)
  log(`${opts.quick ? 'quick' : 'full'} run, ${opts.rounds} round(s) of ${opts.seconds} s windows; load average ${loadStart.one.toFixed(2)}`)

  const machine = machineInfo(ROOT)
  const model = await modelInfo(opts.modelsDir, opts.model)
  // a static-batch export (input [1, 3, H, W]) runs one frame per call: larger raw batches cannot run
  const fixedBatch = model.manifest.input.shape[0]
  if (typeof fixedBatch === 'number' && fixedBatch > 0 && opts.rawBatches.some((b) => b !== 1)) {
    log(`${model.info.name} has a static batch of ${fixedBatch} (input [${model.manifest.input.shape.join(', ')}]): raw batches ${opts.rawBatches.join(',')} fall back to batch 1`)
    opts.rawBatches = [1]
  } else {
    // the raw limit (and every bound on it) includes the batch the servers run (BATCH_MAX_SIZE):
    // end to end must never be measured against a model cost it can reach and the bound cannot
    const serverBatch = loadConfig(opts.env).batchMaxSize
    if (!opts.rawBatches.includes(serverBatch)) opts.rawBatches = [...opts.rawBatches, serverBatch].sort((a, b) => a - b)
  }
  if (!model.info.sha256Verified) log(`WARNING: ${model.info.file} does not match the sha256 in its manifest (the server would refuse it)`)
  const rig = await startRig(opts, model.manifest, model.bytes)
  log(`started: ${rig.plan.workers} worker(s) x ${rig.plan.threadsPerWorker} thread(s), servers on ${rig.real.server.url} (model) and ${rig.noop.server.url} (no-op)`)
  const rounds: Round[] = []
  const halfLoads: HalfLoad[] = []
  const halfLoadsModelSize: HalfLoad[] = []
  let profiles: Awaited<ReturnType<typeof profiledRuns>> | undefined
  try {
    await warmUp(rig, opts)
    for (let i = 0; i < opts.rounds; i++) {
      log(`round ${i + 1} of ${opts.rounds}`)
      rounds.push(await runRound(rig, opts, i, log))
    }
    const maxFps = median(rounds.map((r) => r.e2e.ws.fps))
    for (let i = 0; i < opts.rounds; i++) {
      halfLoads.push(await halfLoad(rig, opts, maxFps))
      log(`half load (${(maxFps / 2).toFixed(1)} frames/s offered): p50 ${halfLoads.at(-1)!.latency.p50.toFixed(1)} ms, added beyond the model ${halfLoads.at(-1)!.addedLatencyP50Ms.toFixed(1)} ms`)
    }
    const maxFpsModelSize = median(rounds.map((r) => r.e2e.wsModelSize.fps))
    for (let i = 0; i < opts.rounds; i++) {
      const h = await halfLoad(rig, opts, maxFpsModelSize, 'model-size')
      halfLoadsModelSize.push(h)
      log(`half load, model-size frames (${(maxFpsModelSize / 2).toFixed(1)} frames/s offered): p50 ${h.latency.p50.toFixed(1)} ms, added beyond model and decode ${h.addedBeyondDecodeP50Ms.toFixed(1)} ms`)
    }
    if (opts.profile) {
      profiles = await profiledRuns(rig, opts, join(ROOT, 'bench/out'))
      log(`profiled the server: ${profiles.e2e.file}, ${profiles.ceiling.file}`)
    }
  } finally {
    await stopRig(rig)
  }
  // after the rig: its servers and load generator would share the cores with the browser
  /** A stage in Chromium: its figures, or why it did not run (turned off, or no Chromium here). */
  const inChromium = async <T,>(on: boolean, off: string, what: string, measure: () => Promise<T>): Promise<T | { skipped: string }> => {
    if (!on) return { skipped: off }
    const missing = chromiumMissing()
    if (missing) return { skipped: missing }
    log(what)
    return measure()
  }
  const firstLoad = await inChromium(opts.firstLoad, '--no-first-load', 'first load of a station in Chromium (emulated 20 Mbit/s, 20 ms)', () =>
    measureFirstLoad({ link: { downMbps: 20, upMbps: 10, rttMs: 20 }, runs: 1, log }),
  )
  const stationLatency = await inChromium(opts.stationLatency, '--no-station-latency', 'capture -> verdict at a station in Chromium (5 frames/s, model-size uplink and full frames)', () =>
    measureStationLatency({ rounds: 1, seconds: 10, captureFps: 5, log }),
  )

  const results = buildResults({
    mode: opts.quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    durationS: (performance.now() - t0) / 1000,
    rounds,
    halfLoads,
    halfLoadsModelSize,
    ...(profiles ? { profiles } : {}),
    machine,
    model: model.info,
    load: { start: loadStart, end: loadAverage() },
    layout: {
      workers: rig.plan.workers,
      threadsPerWorker: rig.plan.threadsPerWorker,
      batchMaxSize: rig.batchMaxSize,
      fullFrameDecoder: rig.fullFrameDecoder,
      prefetch: rig.prefetch,
      stations: opts.stations,
      ceilingStations: opts.ceilingStations,
      httpConcurrency: opts.httpConcurrency,
      seconds: opts.seconds,
      warmupMs: opts.warmupMs,
    },
    frames: rig.frames,
    modelSize: { width: rig.modelSize.width, height: rig.modelSize.height, meanBytes: rig.modelSize.meanBytes, fullMeanBytes: rig.modelSize.fullMeanBytes },
    firstLoad,
    stationLatency,
  })
  // --out may name a folder that does not exist yet (it failed at the very end of the run)
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  log(`wrote results.json, ${(await writeReport(results, out)).join(', ')} in ${out}/`)
  for (const t of (results.details as { targets: { what: string; met: boolean; measured: number; op: string; limit: number }[] }).targets) {
    log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.measured.toFixed(2)} (${t.op} ${t.limit})`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
