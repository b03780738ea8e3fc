/**
 * Choosing the execution provider by measuring it. Every candidate (WebGPU, then WASM) that
 * initialises is warmed up and timed on both models; the fastest is kept. A candidate that fails
 * keeps the reason (no navigator.gpu, no adapter, a session that cannot be created...) and every
 * outcome is reported, so a station never falls back to WASM without saying so: a software WebGPU
 * adapter (SwiftShader) initialises fine and is a hundred times slower than WASM.
 */
import type { DetectManifest, PrefilterManifest } from '../../shared/domain/manifest.ts'
import type { CandidateReport, LocalEp } from './api.ts'
import { DetectorRunner } from './detector-runner.ts'
import { PrefilterRunner } from './prefilter-runner.ts'
import { timeModel, type TimingPlan } from './timing.ts'

export interface LoadedModels {
  detector: { bytes: Uint8Array; manifest: DetectManifest }
  prefilter: { bytes: Uint8Array; manifest: PrefilterManifest } | null
}

export interface Runners {
  ep: LocalEp
  detector: DetectorRunner
  prefilter: PrefilterRunner | null
}

export interface Measured {
  report: CandidateReport
  runners?: Runners
}

// WebGPU is not yet in TypeScript's DOM library.
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string }
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>
}

async function describeAdapter(): Promise<{ ok: true; adapter: string } | { ok: false; error: string }> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu
  if (!gpu) return { ok: false, error: 'navigator.gpu missing: this browser (or this context) has no WebGPU' }
  let adapter: GpuAdapterLike | null
  try {
    adapter = await gpu.requestAdapter()
  } catch (e) {
    return { ok: false, error: `adapter request failed: ${(e as Error).message}` }
  }
  if (!adapter) return { ok: false, error: 'adapter request failed: navigator.gpu.requestAdapter() returned null (GPU blocklisted or disabled)' }
  const i = adapter.info ?? {}
  return { ok: true, adapter: [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unknown adapter' }
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  return m.length > 480 ? `${m.slice(0, 480)}…` : m
}

/** Sets one backend up and times it; the runners come back only when everything worked. */
export async function measure(ep: LocalEp, models: LoadedModels, plan: TimingPlan): Promise<Measured> {
  const started = performance.now()
  const report: CandidateReport = { ep, ok: false }
  if (ep === 'webgpu') {
    const adapter = await describeAdapter()
    if (!adapter.ok) return { report: { ...report, error: adapter.error } }
    report.adapter = adapter.adapter
  }
  let detector: DetectorRunner | null = null
  let prefilter: PrefilterRunner | null = null
  let stage = 'detector session'
  try {
    detector = await DetectorRunner.create(models.detector.bytes, models.detector.manifest, ep)
    if (models.prefilter) {
      stage = 'prefilter session'
      prefilter = await PrefilterRunner.create(models.prefilter.bytes, models.prefilter.manifest, ep)
      stage = 'prefilter run'
      const p = prefilter
      const zeros = new Float32Array(3 * p.size.width * p.size.height)
      const timed = await timeModel(async () => {
        const t = performance.now()
        await p.run(zeros)
        return performance.now() - t
      }, plan)
      report.prefilterMs = timed.ms
      report.prefilterWarmupMs = timed.warmupMs
    }
    stage = 'detector run'
    const d = detector
    const timed = await timeModel(() => d.timeRun(), plan)
    report.detectorMs = timed.ms
    report.detectorWarmupMs = timed.warmupMs
    report.runs = timed.runs
    report.ok = true
    report.setupMs = performance.now() - started
    return { report, runners: { ep, detector, prefilter } }
  } catch (e) {
    await Promise.allSettled([detector?.release(), prefilter?.release()])
    return { report: { ...report, error: `${stage}: ${message(e)}`, setupMs: performance.now() - started } }
  }
}

export async function releaseRunners(r: Runners): Promise<void> {
  await Promise.allSettled([r.detector.release(), r.prefilter?.release()])
}
