import { describe, expect, it } from 'vitest'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { CandidateReport, InitOptions, InitReport, LocalEp, WorkerReply } from './api.ts'
import { chooseBackend, type BackendWorker } from './backend-choice.ts'

const model = { name: 'detector', version: '1', sha256: 'c'.repeat(64), url: '/models/detector/c.onnx', manifestUrl: '/models/detector/manifest.json' }
const plan = { runs: 3, budgetMs: 1000 }

function report(ep: LocalEp | null, candidates: CandidateReport[], fromCache = false): InitReport {
  return {
    ep, candidates, detector: { name: 'detector' } as DetectManifest, prefilter: null, models: [{ name: 'detector', version: '1', bytes: 10, fromCache }],
    runtimeFromCache: fromCache, loadMs: 100, phasesMs: { runtime: 1, models: 1, backends: 98 },
  }
}

/** A worker whose init answers from a script, keyed by the backends asked for. */
class ScriptedWorker implements BackendWorker {
  readonly asked: string[] = []
  terminated = false
  constructor(private readonly answer: (eps: readonly LocalEp[]) => WorkerReply<InitReport> | Promise<WorkerReply<InitReport>>) {}
  async init(o: InitOptions): Promise<WorkerReply<InitReport>> {
    this.asked.push((o.eps ?? []).join('+'))
    return this.answer(o.eps ?? [])
  }
  terminate(): void {
    this.terminated = true
  }
}

const wasm: CandidateReport = { ep: 'wasm', ok: true, prefilterMs: 2, detectorMs: 40 }
const slowGpu: CandidateReport = { ep: 'webgpu', ok: true, prefilterMs: 900, detectorMs: 4000, adapter: 'google swiftshader' }
const fastGpu: CandidateReport = { ep: 'webgpu', ok: true, prefilterMs: 0.5, detectorMs: 4 }

function run(serving: ScriptedWorker, probe: ScriptedWorker, signal = new AbortController().signal) {
  const reports: { ep: string | null; measuring: boolean; candidates: string[] }[] = []
  const errors: WireError[] = []
  let failed: WireError | null = null
  const done = chooseBackend(serving, { detector: model }, plan, signal, {
    onReport: (r, measuring) => reports.push({ ep: r.ep, measuring, candidates: r.candidates.map((c) => c.ep) }),
    onError: (e) => errors.push(e),
    onFailed: (e) => (failed = e),
  }, () => probe)
  return { done, reports, errors, failed: () => failed }
}

describe('backend choice', () => {
  it('serves on WASM at once, then reports every measured candidate and keeps WASM when it is fastest', async () => {
    const serving = new ScriptedWorker((eps) => ({ ok: true, value: report(eps[0]!, [wasm]) }))
    const probe = new ScriptedWorker(() => ({ ok: true, value: report('wasm', [slowGpu, wasm], true) }))
    const r = run(serving, probe)
    await r.done
    expect(r.reports).toEqual([
      { ep: 'wasm', measuring: true, candidates: ['wasm'] },
      { ep: 'wasm', measuring: false, candidates: ['webgpu', 'wasm'] },
    ])
    expect(serving.asked).toEqual(['wasm'])
    expect(probe.asked).toEqual(['webgpu+wasm'])
    expect(probe.terminated).toBe(true)
  })

  it('moves the serving worker to a faster measured backend', async () => {
    const serving = new ScriptedWorker((eps) => ({ ok: true, value: report(eps[0]!, [eps[0] === 'webgpu' ? fastGpu : wasm]) }))
    const probe = new ScriptedWorker(() => ({ ok: true, value: report('webgpu', [fastGpu, wasm]) }))
    const r = run(serving, probe)
    await r.done
    expect(serving.asked).toEqual(['wasm', 'webgpu'])
    expect(r.reports.at(-1)).toEqual({ ep: 'webgpu', measuring: false, candidates: ['webgpu', 'wasm'] })
    expect(r.errors).toEqual([])
  })

  it('goes back to WASM, and says so, when the faster backend fails to start for serving', async () => {
    const serving = new ScriptedWorker((eps) =>
      eps[0] === 'webgpu' ? { ok: true, value: report(null, [{ ep: 'webgpu', ok: false, error: 'detector session: device lost' }]) } : { ok: true, value: report('wasm', [wasm]) },
    )
    const probe = new ScriptedWorker(() => ({ ok: true, value: report('webgpu', [fastGpu, wasm]) }))
    const r = run(serving, probe)
    await r.done
    expect(serving.asked).toEqual(['wasm', 'webgpu', 'wasm'])
    expect(r.reports.at(-1)?.ep).toBe('wasm')
    expect(r.errors[0]).toMatchObject({ code: 'backend_switch_failed', message: expect.stringContaining('device lost') })
  })

  it('gives up on local inference when the models cannot be loaded, without measuring', async () => {
    const serving = new ScriptedWorker(() => ({ ok: false, error: { code: 'sha256_mismatch', message: '/models/detector/c.onnx: sha256 is d…, expected c…' } }))
    const probe = new ScriptedWorker(() => ({ ok: true, value: report('wasm', [wasm]) }))
    const r = run(serving, probe)
    await r.done
    expect(r.failed()).toMatchObject({ code: 'sha256_mismatch' })
    expect(r.reports).toEqual([])
    expect(probe.asked).toEqual([])
  })

  it('stops the measuring worker when the station stops', async () => {
    const serving = new ScriptedWorker(() => ({ ok: true, value: report('wasm', [wasm]) }))
    let release: (r: WorkerReply<InitReport>) => void = () => {}
    const probe = new ScriptedWorker(() => new Promise((r) => (release = r)))
    const stop = new AbortController()
    const r = run(serving, probe, stop.signal)
    await new Promise((res) => setTimeout(res, 0))
    expect(probe.asked).toEqual(['webgpu+wasm'])
    stop.abort()
    expect(probe.terminated).toBe(true)
    release({ ok: false, error: { code: 'worker_terminated', message: 'stopped' } })
    await r.done
    expect(r.reports.map((x) => x.measuring)).toEqual([true])
  })
})
