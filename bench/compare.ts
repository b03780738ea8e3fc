/**
 * A/B of two checkouts of linesight on one stage, to measure a proposed fix before it lands:
 *
 *   npx tsx bench/compare.ts --a /work/main --b /tmp/linesight-with-fix [--stage ceiling|e2e|http]
 *       [--rounds 4] [--seconds 3] [--stations N] [--frames full|model-size] [--rate R]
 *       [--env-a K=V,K=V] [--env-b K=V,K=V]
 *
 * `http`: the 640x480 frames as `POST /api/v1/detect` from N clients (8 unless --stations says).
 * `--rate R` (e2e): the stations offer R frames/s in all instead of keeping their credit in flight,
 * for latency at a given load (the half-load target: half of what the closed loop reaches); each
 * run then also prints the p50 added beyond the model and the decode (p50 latency minus the p50s
 * of both stages, as bench/results.json's `addedLatencyP50Ms`), and the summary its B - A.
 * `--env-a` / `--env-b`: settings for one server only (the same checkout twice, one setting apart);
 * a NODE_OPTIONS there is added to the benchmark's own (`--env-b NODE_OPTIONS=--v8-pool-size=1`).
 *
 * Both servers run at once (idle while the other is measured); runs alternate A B B A ... so
 * the machine's drifting load falls on both. Prints per-round numbers and the medians of the
 * per-round B/A ratios of frames/s, of server CPU per frame and of main-thread CPU per frame (the
 * figures a shared machine blurs least). Writes nothing.
 */
import { parseArgs } from 'node:util'
import { readFile } from 'node:fs/promises'
import { inputSize, parseManifest } from '../shared/domain/manifest.ts'
import { frameSet, modelSizeSet, opaqueFrames } from './frames.ts'
import { measuredRun, type MeasuredRun } from './load/measured.ts'
import type { LoadCommand } from './load/protocol.ts'
import { LoadGenerator } from './load/remote.ts'
import { envList } from './options.ts'
import { OPAQUE_FRAME_BYTES } from './rig.ts'
import { startLinesight } from './stages/linesight.ts'
import { median } from './stats.ts'

const { values: v } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    stage: { type: 'string', default: 'ceiling' },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    stations: { type: 'string' },
    // model-size: the 640x480 frames resized to the default detector's input, as stations send them now
    frames: { type: 'string', default: 'full' },
    rate: { type: 'string' },
    'env-a': { type: 'string', default: '' },
    'env-b': { type: 'string', default: '' },
  },
})
if (!v.a || !v.b) throw new Error('usage: compare.ts --a <checkout> --b <checkout> [--stage ceiling|e2e|http] [--rounds N] [--seconds S]')
if (v.stage !== 'ceiling' && v.stage !== 'e2e' && v.stage !== 'http') throw new Error(`--stage must be ceiling, e2e or http, got ${v.stage}`)
const noop = v.stage === 'ceiling'
const rounds = Number(v.rounds)
const seconds = Number(v.seconds)
const rate = v.rate === undefined ? undefined : Number(v.rate)
if (rate !== undefined && !(rate > 0 && v.stage === 'e2e')) throw new Error(`--rate needs --stage e2e and a positive number, got ${v.rate}`)

if (v.frames !== 'full' && v.frames !== 'model-size') throw new Error(`--frames must be full or model-size, got ${v.frames}`)
const vga = await frameSet('vga')
const detector = parseManifest(JSON.parse(await readFile('models/detector/manifest.json', 'utf8')), 'models/detector/manifest.json')
const small = v.frames === 'model-size' && !noop ? await modelSizeSet(vga, inputSize(detector)) : undefined
const gen = await LoadGenerator.start()
// the load generator's stations carry no token (AUTH_REQUIRED is on by default since issue 14)
const env = { AUTH_REQUIRED: 'false' }
const started = await Promise.allSettled([startLinesight({ noop, env: { ...env, ...envList(v['env-a']) }, root: v.a }), startLinesight({ noop, env: { ...env, ...envList(v['env-b']) }, root: v.b })])
const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
if (failed.length) {
  // stop whichever did start before reporting why the other did not
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : Promise.resolve())))
  await gen.close()
  throw new AggregateError(failed.map((f): unknown => f.reason), 'a server did not start')
}
type Server = Awaited<ReturnType<typeof startLinesight>>
const [a, b] = started.map((s) => (s as PromiseFulfilledResult<Server>).value) as [Server, Server]
const command = (s: Server): LoadCommand =>
  v.stage === 'http'
    ? { type: 'http', url: s.detectUrl('compare', 'h1'), concurrency: Number(v.stations ?? 8), images: vga.jpegs, warmupMs: 1000, seconds }
    : stationsCommand(s.wsUrl)
const stationsCommand = (url: string): LoadCommand => ({
  type: 'stations',
  url,
  line: 'compare',
  stations: Number(v.stations ?? (noop ? 8 : 4)),
  images: noop ? opaqueFrames(OPAQUE_FRAME_BYTES) : (small?.jpegs ?? vga.jpegs),
  mime: 'image/jpeg',
  width: small?.width ?? vga.width,
  height: small?.height ?? vga.height,
  ...(small ? { from: small.from } : {}),
  completeOn: 'result',
  warmupMs: 1000,
  seconds,
  ...(rate ? { rate } : {}),
})
/** p50 latency beyond the model and the decode, ms (NaN where the frames carry no stage timings). */
const added = (r: MeasuredRun) => r.latency.p50 - (r.stagesP50.infer ?? NaN) - (r.stagesP50.decode ?? NaN)
const show = (name: string, r: MeasuredRun) =>
  `${name}: ${r.fps.toFixed(0)} frames/s, p50 ${r.latency.p50.toFixed(1)} ms${rate ? ` (added ${added(r).toFixed(2)})` : ''}, server ${r.server.cpuMsPerFrame.toFixed(3)} CPU ms/frame (${Object.entries(r.server.threadsMsPerFrame).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')})`
try {
  // unmeasured: JIT and caches
  await measuredRun(gen, a.pid, { ...command(a), seconds: 2 })
  await measuredRun(gen, b.pid, { ...command(b), seconds: 2 })
  const fpsRatio: number[] = []
  const cpuRatio: number[] = []
  const mainRatio: number[] = []
  const addedDiff: number[] = []
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a]
    const r = new Map<typeof a, MeasuredRun>()
    for (const s of order) r.set(s, await measuredRun(gen, s.pid, command(s)))
    const ra = r.get(a)!
    const rb = r.get(b)!
    fpsRatio.push(rb.fps / ra.fps)
    cpuRatio.push(rb.server.cpuMsPerFrame / ra.server.cpuMsPerFrame)
    mainRatio.push((rb.server.threadsMsPerFrame.main ?? NaN) / (ra.server.threadsMsPerFrame.main ?? NaN))
    addedDiff.push(added(rb) - added(ra))
    console.log(`round ${i + 1}\n  ${show('A', ra)}\n  ${show('B', rb)}`)
  }
  console.log(
    `B/A over ${rounds} rounds (median): frames/s ${median(fpsRatio).toFixed(3)}, server CPU per frame ${median(cpuRatio).toFixed(3)}, main-thread CPU per frame ${median(mainRatio).toFixed(3)} (the main thread is the gateway's single-core ceiling)` +
      (rate ? `; p50 added beyond model and decode, B - A: ${median(addedDiff).toFixed(2)} ms` : ''),
  )
} finally {
  await Promise.all([a.stop(), b.stop(), gen.close()])
}
