/**
 * Where a server's CPU per frame goes, end to end over /ws/station: one server, one measured
 * window, the server's CPU split by thread (named where the thread names itself, inference
 * workers told apart from libuv's pool and V8's helpers by their share), and optionally a
 * `perf record` of every thread of the server over the same window (native frames included:
 * onnxruntime, libvips, libjpeg, V8, the kernel).
 *
 *   npx tsx bench/breakdown.ts [--root <checkout>] [--frames model-size|full] [--seconds 5]
 *       [--stations 4] [--rate R] [--http] [--perf <file.data>] [--profile] [--env K=V,K=V] [--noop]
 *
 * `--noop` serves with the benchmark's no-op engine (bench/noop: no decode, no model, no worker
 * thread, every frame passes): what the server costs per frame around inference, the floor that
 * no change to decoding or to the model can go below.
 *
 * `--rate R`: the stations offer R frames/s in all (open loop) instead of keeping their credit in
 * flight: where the CPU goes at a given load (half load pays per frame what full load shares).
 *
 * `--http`: `--stations` clients each keep one `POST /api/v1/detect` of a full 640x480 frame in
 * flight instead (the benchmark's `httpFullFrameOverBound` load); `--frames` and `--rate` do not
 * apply.
 *
 * `perf report -i <file.data> --sort comm,dso` then shows the split by thread and library.
 * Writes nothing else.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { inputSize, parseManifest } from '../shared/domain/manifest.ts'
import { threadCpuMs } from './cpu.ts'
import { frameSet, modelSizeSet } from './frames.ts'
import { loadAverage } from './machine.ts'
import { measuredRun } from './load/measured.ts'
import type { LoadCommand } from './load/protocol.ts'
import { LoadGenerator } from './load/remote.ts'
import { envList } from './options.ts'
import { summariseProfile } from './profile/summary.ts'
import { profileThreads } from './profile/threads.ts'
import { startLinesight } from './stages/linesight.ts'
import { metricValue } from '../test/helpers/metrics.ts'
import { authHeaders } from '../test/helpers/server.ts'

const { values: v } = parseArgs({
  options: {
    root: { type: 'string' },
    frames: { type: 'string', default: 'model-size' },
    seconds: { type: 'string', default: '5' },
    stations: { type: 'string', default: '4' },
    rate: { type: 'string' },
    perf: { type: 'string' },
    env: { type: 'string', default: '' },
    profile: { type: 'boolean', default: false },
    noop: { type: 'boolean', default: false },
    http: { type: 'boolean', default: false },
  },
})
const env: Record<string, string> = { AUTH_REQUIRED: 'false', ...envList(v.env) }
const vga = await frameSet('vga')
const detector = parseManifest(JSON.parse(await readFile('models/detector/manifest.json', 'utf8')), 'models/detector/manifest.json')
const small = v.frames === 'model-size' ? await modelSizeSet(vga, inputSize(detector)) : undefined
const gen = await LoadGenerator.start()
// --perf: V8 writes /tmp/perf-<pid>.map, so perf names the JavaScript functions of every thread
// (--cpu-prof would be per thread, but NODE_OPTIONS does not allow it)
const nodeOptions = v.perf ? ['--perf-basic-prof'] : []
const s = await startLinesight({ noop: v.noop, env, nodeOptions, ...(v.root ? { root: v.root } : {}) })
const command = (seconds: number): LoadCommand =>
  v.http
    ? { type: 'http', url: s.detectUrl('breakdown', 'h1'), concurrency: Number(v.stations), images: vga.jpegs, warmupMs: 1000, seconds }
    : {
      type: 'stations',
      url: s.wsUrl,
      line: 'breakdown',
      stations: Number(v.stations),
      images: small?.jpegs ?? vga.jpegs,
      mime: 'image/jpeg',
      width: small?.width ?? vga.width,
      height: small?.height ?? vga.height,
      ...(small ? { from: small.from } : {}),
      completeOn: 'result',
      ...(v.rate ? { rate: Number(v.rate) } : {}),
      warmupMs: 1000,
      seconds,
    }
/** Frames and model calls so far (linesight_inference_batch_size's sum and count, every model). */
async function batches(): Promise<{ frames: number; calls: number }> {
  const text = await (await fetch(`${s.server.url}/metrics`, { headers: authHeaders(s.server.url) })).text()
  return { frames: metricValue(text, 'linesight_inference_batch_size_sum'), calls: metricValue(text, 'linesight_inference_batch_size_count') }
}
try {
  await measuredRun(gen, s.pid, command(2))
  const before = threadCpuMs(s.pid)
  const batchesBefore = await batches()
  const perf = v.perf ? spawn('perf', ['record', '-F', '499', '-g', '-p', String(s.pid), '-o', v.perf], { stdio: 'ignore' }) : undefined
  const run = () => measuredRun(gen, s.pid, command(Number(v.seconds)))
  const { result: r, profiles } = v.profile ? await profileThreads(s.inspectorUrl, run) : { result: await run(), profiles: [] }
  if (perf) {
    perf.kill('SIGINT')
    await new Promise((res) => perf.once('exit', res))
  }
  const after = threadCpuMs(s.pid)
  const batchesAfter = await batches()
  // per thread, over the warm-up and the window (the generator's window is inside it)
  const rows = [...after].map(([tid, a]) => ({ tid, comm: tid === s.pid ? 'main' : a.comm, ms: a.ms - (before.get(tid)?.ms ?? 0) })).filter((t) => t.ms > 0)
  rows.sort((x, y) => y.ms - x.ms)
  const total = rows.reduce((n, t) => n + t.ms, 0)
  console.log(`load average ${loadAverage().one.toFixed(2)}; ${r.fps.toFixed(0)} frames/s, ${r.completed} frames, p50 ${r.latency.p50.toFixed(1)} ms`)
  console.log(`server ${r.server.cpuMsPerFrame.toFixed(3)} CPU ms/frame (system ${r.server.systemMsPerFrame.toFixed(3)}): ${Object.entries(r.server.threadsMsPerFrame).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(', ')}`)
  const calls = batchesAfter.calls - batchesBefore.calls
  if (calls > 0) console.log(`model calls ${calls}, ${((batchesAfter.frames - batchesBefore.frames) / calls).toFixed(2)} frames per call (BATCH_MAX_SIZE's batches)`)
  console.log(`stage p50s: ${Object.entries(r.stagesP50).map(([k, x]) => `${k} ${x.toFixed(2)}`).join(', ')}`)
  console.log('threads (share of the server CPU from the window\'s warm-up to its end):')
  for (const t of rows) console.log(`  ${String(t.tid).padStart(8)} ${t.comm.padEnd(16)} ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${((t.ms / total) * r.server.cpuMsPerFrame).toFixed(3)} ms/frame`)
  // sampled time per frame of the window; native code the thread calls shows as (program)
  for (const { thread, profile } of profiles) {
    const sum = summariseProfile(profile, 25)
    const per = (ms: number) => `${(ms / r.completed).toFixed(3)} ms/frame`
    console.log(`\n${thread}: busy ${per(sum.busyMs)}`)
    for (const a of sum.areas.slice(0, 12)) console.log(`  area ${a.area.padEnd(28)} ${per(a.selfMs)}`)
    for (const f of sum.top) console.log(`  ${(f.fn + ' ' + f.where).slice(0, 90).padEnd(90)} ${per(f.selfMs)}`)
  }
} finally {
  await Promise.all([s.stop(), gen.close()])
}
