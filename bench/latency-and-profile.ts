/**
 * The runs that depend on the rounds' results or would disturb them: the half-load latency run
 * (offered load = half the measured end-to-end maximum) and the CPU-profiled runs of the server
 * (profiling slows what it watches, so the profiled runs are never the measured ones).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { measuredRun, type MeasuredRun } from './load/measured.ts'
import type { BenchOptions } from './options.ts'
import { Inspector } from './profile/inspector.ts'
import { summariseProfile, type ProfileSummary } from './profile/summary.ts'
import type { Rig } from './rig.ts'
import { ceilingCommand, modelSizeFrames, stationsCommand } from './rounds.ts'
import type { Window } from './window.ts'

/** A first, unmeasured run through each server, so no round pays for JIT compilation and cold caches. */
export async function warmUp(rig: Rig, opts: BenchOptions): Promise<void> {
  const w: Window = { warmupMs: 0, seconds: Math.min(2, opts.seconds) }
  await measuredRun(rig.gen, rig.real.pid, stationsCommand(rig, opts, w, { url: rig.real.wsUrl, line: 'warmup', completeOn: 'result' }))
  await measuredRun(rig.gen, rig.noop.pid, ceilingCommand(rig, opts, w))
}

export interface HalfLoad extends MeasuredRun {
  /** p50 end-to-end latency minus the p50 of the model's own time per frame (timings.infer), ms. */
  addedLatencyP50Ms: number
  /** p50 end-to-end latency minus the p50s of the model's time and of the decode (timings.decode), ms. */
  addedBeyondDecodeP50Ms: number
}

/**
 * Stations offering half of `maxFps` (the median end-to-end maximum of the same frames), each
 * frame's latency from its send to its result. `frames` 'model-size': what stations send now.
 */
export async function halfLoad(rig: Rig, opts: BenchOptions, maxFps: number, frames: 'full' | 'model-size' = 'full'): Promise<HalfLoad> {
  const over = frames === 'model-size' ? modelSizeFrames(rig) : {}
  const r = await measuredRun(
    rig.gen,
    rig.real.pid,
    stationsCommand(rig, opts, { warmupMs: opts.warmupMs, seconds: opts.seconds }, { url: rig.real.wsUrl, line: `half-load-${frames}`, completeOn: 'result', rate: maxFps / 2, ...over }),
  )
  const infer = r.stagesP50.infer ?? Number.NaN
  return { ...r, addedLatencyP50Ms: r.latency.p50 - infer, addedBeyondDecodeP50Ms: r.latency.p50 - infer - (r.stagesP50.decode ?? Number.NaN) }
}

export interface ProfiledRun {
  run: MeasuredRun
  summary: ProfileSummary
  /** Where the .cpuprofile was written (open it in Chrome DevTools or speedscope). */
  file: string
}

export async function profiledRuns(rig: Rig, opts: BenchOptions, dir: string): Promise<{ e2e: ProfiledRun; ceiling: ProfiledRun }> {
  await mkdir(dir, { recursive: true })
  const w: Window = { warmupMs: opts.warmupMs, seconds: opts.seconds }
  const profiled = async (name: string, inspectorUrl: string, run: () => Promise<MeasuredRun>): Promise<ProfiledRun> => {
    const inspector = await Inspector.connect(inspectorUrl)
    try {
      const { result, profile } = await inspector.profile(run)
      const file = join(dir, `${name}.cpuprofile`)
      await writeFile(file, JSON.stringify(profile))
      return { run: result, summary: summariseProfile(profile), file: relative(process.cwd(), file) }
    } finally {
      await inspector.close()
    }
  }
  const e2e = await profiled('e2e-server', rig.real.inspectorUrl, () =>
    measuredRun(rig.gen, rig.real.pid, stationsCommand(rig, opts, w, { url: rig.real.wsUrl, line: 'profiled', completeOn: 'result' })),
  )
  const ceiling = await profiled('ceiling-server', rig.noop.inspectorUrl, () => measuredRun(rig.gen, rig.noop.pid, ceilingCommand(rig, opts, w)))
  return { e2e, ceiling }
}
