/**
 * `npm run bench:candidate -- [--rounds 6] [--seconds 5] [--stations 4] [--candidate realsize|copy] [--rate N]`:
 * does a candidate model in shadow change the current model's latency? (issue 17)
 *
 * One real linesight process (bench/stages/linesight.ts), a load-generator process over
 * /ws/station sending model-size frames as stations do, at half of the closed-loop rate
 * measured first, or at `--rate` frames/s (to compare two builds at the same load on a machine
 * whose closed-loop rate moves with what else runs on it). Two lines on that process, both served by the default detector:
 *   A: no candidate;
 *   B: a candidate on share 1.0 — `realsize`: the 3.4 M-parameter YOLOv8n-class network with the
 *      line's five classes (`npm run models:realsize -- --names line --sizes 320` makes it; about
 *      12x the default detector's parameters), or `copy`: the default detector's file under
 *      another name (the same cost per frame).
 * Rounds alternate A B B A ..., and after each B run every frame of B the server recorded
 * must be counted by the candidate (inferred, skipped or failed) before the next run starts, so
 * no shadow work of one run falls into the next. Prints per-round capture -> verdict p50/p99 (send to
 * result at the load generator), the candidate's share run and skipped
 * (`linesight_candidate_frames_total`), and the medians of the per-round B/A ratios of latency, of
 * the current model's own infer stage (timings.infer, less blurred by queueing on a shared machine)
 * and of server CPU per frame.
 * Reports, never asserts; writes nothing.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { inputSize, parseManifest } from '../shared/domain/manifest.ts'
import { metricValue } from '../test/helpers/metrics.ts'
import { waitFor } from '../test/helpers/wait.ts'
import { frameSet, modelSizeSet } from './frames.ts'
import { loadAverage } from './machine.ts'
import { measuredRun, type MeasuredRun } from './load/measured.ts'
import type { StationsCommand } from './load/protocol.ts'
import { LoadGenerator } from './load/remote.ts'
import { startLinesight } from './stages/linesight.ts'
import { median } from './stats.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: v } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '5' },
    stations: { type: 'string', default: '4' },
    candidate: { type: 'string', default: 'realsize' },
    rate: { type: 'string' },
    'realsize-dir': { type: 'string', default: join(ROOT, 'bench/out/realsize-models') },
  },
})
const rounds = Number(v.rounds)
const seconds = Number(v.seconds)
const stations = Number(v.stations)
if (![rounds, seconds, stations].every((n) => Number.isInteger(n) && n >= 1)) throw new Error('--rounds, --seconds and --stations must be whole numbers >= 1')
if (v.candidate !== 'realsize' && v.candidate !== 'copy') throw new Error(`--candidate must be realsize or copy, got ${v.candidate}`)
const REALSIZE = 'realsize-line-320'
if (v.candidate === 'realsize' && !existsSync(join(v['realsize-dir'], REALSIZE, 'manifest.json'))) {
  throw new Error(`no ${REALSIZE} in ${v['realsize-dir']}: run \`npm run models:realsize -- --names line --sizes 320\` first (or pass --candidate copy)`)
}

// a models folder of this run's own: the default detector and prefilter, and the candidate
const models = await mkdtemp(join(tmpdir(), 'linesight-bench-candidate-'))
for (const dir of ['detector', 'prefilter']) await cp(join(ROOT, 'models', dir), join(models, dir), { recursive: true })
let candidateName: string
if (v.candidate === 'realsize') {
  candidateName = REALSIZE
  await cp(join(v['realsize-dir'], REALSIZE), join(models, REALSIZE), { recursive: true })
} else {
  candidateName = 'detector-copy'
  await cp(join(ROOT, 'models/detector'), join(models, candidateName), { recursive: true })
  const manifest = JSON.parse(await readFile(join(models, candidateName, 'manifest.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(models, candidateName, 'manifest.json'), JSON.stringify({ ...manifest, name: candidateName, version: '0.1.0-copy' }))
}

const detector = parseManifest(JSON.parse(await readFile(join(ROOT, 'models/detector/manifest.json'), 'utf8')), 'models/detector/manifest.json')
const frames = await modelSizeSet(await frameSet('vga'), inputSize(detector))
const gen = await LoadGenerator.start()
const ls = await startLinesight({ noop: false, env: { LINESIGHT_MODELS_DIR: models, MODELS_WATCH: 'false' } }).catch(async (err: unknown) => {
  await gen.close()
  throw err
})
const A = 'shadow-a'
const B = 'shadow-b'
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await ls.server.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res
}
const candidateCounts = async () => {
  const text = await (await admin('GET', '/metrics')).text()
  const c = (outcome: string) => metricValue(text, 'linesight_candidate_frames_total', { line: B, outcome })
  return { inferred: c('inferred'), skipped: c('skipped_busy'), failed: c('failed') }
}
const recordedB = async () => metricValue(await (await admin('GET', '/metrics')).text(), 'linesight_results_total', { line: B, where: 'server' })
const counted = (c: Awaited<ReturnType<typeof candidateCounts>>) => c.inferred + c.skipped + c.failed
const command = (line: string, rate?: number): StationsCommand => ({
  type: 'stations',
  url: ls.wsUrl,
  line,
  stations,
  images: frames.jpegs,
  mime: 'image/jpeg',
  width: frames.width,
  height: frames.height,
  from: frames.from,
  completeOn: 'result',
  warmupMs: 1000,
  seconds,
  ...(rate ? { rate } : {}),
})
/** The server's threads by nice value (field 19 of /proc/<pid>/task/<tid>/stat), e.g. `0: 31, 19: 2`. */
const threadsByNice = (pid: number) => {
  const count = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const nice = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]!
      count.set(nice, (count.get(nice) ?? 0) + 1)
    } catch {
      // the thread ended meanwhile
    }
  }
  return [...count].sort((a, b) => Number(a[0]) - Number(b[0])).map(([n, c]) => `nice ${n}: ${c}`).join(', ')
}
const fmt = (r: MeasuredRun) => `p50 ${r.latency.p50.toFixed(1)} ms, p99 ${r.latency.p99.toFixed(1)} ms, ${r.fps.toFixed(1)} frames/s, infer p50 ${(r.stagesP50.infer ?? NaN).toFixed(2)} ms, server ${r.server.cpuMsPerFrame.toFixed(2)} CPU ms/frame`

try {
  const load0 = loadAverage()
  for (const line of [A, B]) await admin('PUT', `/api/v1/lines/${line}/settings`, { model: 'detector' })
  await admin('PUT', `/api/v1/admin/lines/${B}/candidate`, { model: candidateName, share: 1 })
  // unmeasured: JIT, caches, the candidate's session
  await measuredRun(gen, ls.pid, { ...command(A), seconds: 2 })
  await measuredRun(gen, ls.pid, { ...command(B), seconds: 2 })
  const closed = await measuredRun(gen, ls.pid, command(A))
  const rate = v.rate ? Number(v.rate) : closed.fps / 2
  if (!(rate > 0)) throw new Error(`--rate must be a number of frames/s > 0, got ${v.rate}`)
  console.log(`candidate ${candidateName}; closed loop on A: ${closed.fps.toFixed(1)} frames/s; offered ${rate.toFixed(1)} frames/s (${v.rate ? '--rate' : 'half load'}), ${stations} stations, ${frames.width}x${frames.height} frames, ${rounds} rounds of ${seconds} s; load average ${load0.one.toFixed(2)}`)
  const p50Ratio: number[] = []
  const p99Ratio: number[] = []
  const inferRatio: number[] = []
  const cpuRatio: number[] = []
  let offered = 0
  let ran = 0
  let skipped = 0
  let failed = 0
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [A, B] : [B, A]
    const r = new Map<string, MeasuredRun>()
    for (const line of order) {
      const before = await candidateCounts()
      r.set(line, await measuredRun(gen, ls.pid, command(line, rate)))
      if (line === B) {
        // every frame of B the server recorded is offered to the candidate after its verdict: wait until each is counted
        const sentB = await waitFor(async () => {
          const c = await candidateCounts()
          return counted(c) === (await recordedB()) ? c : undefined
        }, { what: 'every recorded frame of B to be counted by the candidate', timeoutMs: 60_000 })
        const d = { inferred: sentB.inferred - before.inferred, skipped: sentB.skipped - before.skipped, failed: sentB.failed - before.failed }
        offered += counted(d)
        ran += d.inferred
        skipped += d.skipped
        failed += d.failed
        console.log(`  candidate this round: ${d.inferred} inferred, ${d.skipped} skipped (busy), ${d.failed} failed of ${counted(d)} offered`)
      }
    }
    const ra = r.get(A)!
    const rb = r.get(B)!
    p50Ratio.push(rb.latency.p50 / ra.latency.p50)
    p99Ratio.push(rb.latency.p99 / ra.latency.p99)
    inferRatio.push((rb.stagesP50.infer ?? NaN) / (ra.stagesP50.infer ?? NaN))
    cpuRatio.push(rb.server.cpuMsPerFrame / ra.server.cpuMsPerFrame)
    console.log(`round ${i + 1}\n  A (no candidate) ${fmt(ra)}\n  B (candidate)    ${fmt(rb)}`)
  }
  const load1 = loadAverage()
  console.log(`server threads by priority (a candidate worker and the threads it started at nice 19): ${threadsByNice(ls.pid)}`)
  console.log(
    `B/A over ${rounds} rounds (median): capture -> verdict p50 ${median(p50Ratio).toFixed(3)} (rounds ${p50Ratio.map((x) => x.toFixed(2)).join(' ')}), p99 ${median(p99Ratio).toFixed(3)} (rounds ${p99Ratio.map((x) => x.toFixed(2)).join(' ')})`,
  )
  console.log(
    `B/A (median): the current model's own infer stage p50 ${median(inferRatio).toFixed(3)} (rounds ${inferRatio.map((x) => x.toFixed(2)).join(' ')}); server CPU per current frame ${median(cpuRatio).toFixed(3)} (the candidate's work included)`,
  )
  console.log(`candidate share run: ${ran} of ${offered} offered (${((100 * ran) / offered).toFixed(1)} %), skipped ${skipped} (${((100 * skipped) / offered).toFixed(1)} %), failed ${failed}; load average ${load0.one.toFixed(2)} -> ${load1.one.toFixed(2)}`)
} finally {
  await Promise.all([ls.stop(), gen.close()])
  await rm(models, { recursive: true, force: true })
}
