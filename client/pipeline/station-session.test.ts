import { describe, expect, it } from 'vitest'
import type { LoadReport } from '../../shared/domain/load.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import type { Admitted, Finished, FinishOptions, WorkerReply } from '../inference/api.ts'
import type { PrefilterOutputs } from '../prefilter/decide.ts'
import { SkipTally } from '../prefilter/skip-tally.ts'
import type { DropReason } from '../uplink/credit.ts'
import type { OutgoingFrame } from '../uplink/station-link.ts'
import { DEFAULT_INSPECTION, stationInspection, type InspectionSettings } from '../../shared/domain/inspection.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'
import { PartAssembler } from '../parts/part-assembler.ts'
import { LatencyEstimates } from './estimates.ts'
import { AdaptiveRouter } from './route.ts'
import { ShadowBook } from './shadow.ts'
import { StationSession, type FrameWorker, type SessionEvent, type SessionState } from './station-session.ts'

const manifest = {
  name: 'detector', version: '2.0.0', task: 'detect', file: 'detector.onnx', sha256: 'a'.repeat(64), license: 'x',
  input: { name: 'images', shape: [1, 3, 320, 320], layout: 'NCHW', normalize: '0-1', letterboxPad: 114 },
  output: { name: 'output0', format: 'yolov8' }, classes: ['part', 'scratch'], defectClasses: ['scratch'],
  thresholds: { score: { part: 0.5, scratch: 0.3 }, iou: 0.5 },
} as DetectManifest

function settings(over: Partial<LineSettings> = {}): LineSettings {
  return {
    line: 'L1', model: 'detector', policy: 'auto', auditFraction: 0, shadowFraction: 0, scoreThresholds: { scratch: 0.6 }, captureFps: 5,
    prefilter: { enabled: true, change: 0.01, sharpness: 0.005, exposureLow: 0.2, exposureHigh: 0.8, clipped: 0.1, partPresent: 0.4 },
    ...over,
  }
}
const load: LoadReport = { at: 0, queueDepth: 0, inFlight: 0, workers: 1, p95Ms: 10, estimatedWaitMs: 0, serverInferMs: 10, policy: 'auto', paused: false }
const sharp: PrefilterOutputs = { change: 0.2, sharpness: 0.01, exposure_mean: 0.4, clipped_dark: 0, clipped_bright: 0, part_present: 1 }

/** The worker's contract without onnxruntime: the browser e2e tests run the real one. */
class ScriptedWorker implements FrameWorker {
  readonly calls: string[] = []
  readonly finishes: { frameId: string; o: FinishOptions }[] = []
  outputs: PrefilterOutputs = sharp
  verdict: 'pass' | 'fail' = 'pass'
  hold = false
  readonly #held: (() => void)[] = []

  async admit(frameId: string, _bitmap: ImageBitmap, o: { prefilter: boolean }): Promise<WorkerReply<Admitted>> {
    this.calls.push(`admit ${o.prefilter ? 'prefilter' : 'plain'}`)
    if (this.hold) await new Promise<void>((r) => this.#held.push(r))
    return { ok: true, value: { width: 640, height: 480, ...(o.prefilter ? { prefilter: { outputs: this.outputs, hasReference: true, ms: 2 } } : {}) } }
  }

  async finish(frameId: string, o: FinishOptions): Promise<WorkerReply<Finished>> {
    this.finishes.push({ frameId, o })
    const done: Finished = {}
    if (o.detect) {
      const detections = this.verdict === 'fail' ? [{ classId: 1, class: 'scratch', score: 0.9, box: [1, 2, 3, 4] as [number, number, number, number] }] : []
      done.detection = { detections, verdict: this.verdict, ep: 'wasm', timings: { preprocess: 3, infer: 30, postprocess: 1 } }
    }
    if (o.encode === 'always' || (o.encode === 'if-fail' && this.verdict === 'fail')) done.encoded = { bytes: new Uint8Array([0xff, 0xd8]), mime: 'image/jpeg', width: 640, height: 480, encodeMs: 4 }
    return { ok: true, value: done }
  }

  release(frameId: string): void {
    this.calls.push(`release ${frameId}`)
  }

  /** What each code read finds, in turn (null: no code in the frame). */
  codes: (string | null)[] = []
  async readCode(frameId: string): Promise<WorkerReply<string | null>> {
    this.calls.push(`code ${frameId}`)
    return { ok: true, value: this.codes.shift() ?? null }
  }

  releaseHeld(): void {
    for (const r of this.#held.splice(0)) r()
  }
}

class ScriptedLink {
  online = true
  credit = 8
  readonly sent: OutgoingFrame[] = []
  readonly drops: DropReason[] = []
  reserve(): boolean {
    if (!this.online || this.credit === 0) return false
    this.credit--
    return true
  }
  send(f: OutgoingFrame): boolean {
    this.sent.push(f)
    return true
  }
  cancel(_id: string, reason: DropReason): void {
    this.drops.push(reason)
  }
  drop(reason: DropReason): void {
    this.drops.push(reason)
  }
}

function setup(state: Partial<SessionState> = {}, random = () => 0.5, parts?: PartAssembler) {
  const worker = new ScriptedWorker()
  const link = new ScriptedLink()
  const events: SessionEvent[] = []
  const skips = new SkipTally()
  const shadow = new ShadowBook()
  const s: SessionState = { settings: settings(), load, local: { ep: 'wasm', detector: manifest, prefilter: true }, ...state }
  const session = new StationSession({
    line: 'L1', station: 'S1', link: link as never, worker, router: new AdaptiveRouter(), state: () => s, estimates: new LatencyEstimates(),
    skips, shadow, encodeOptions: { mime: 'image/jpeg', quality: 0.8 }, maxInWorker: 2, random, onEvent: (e) => events.push(e),
    ...(parts ? { parts } : {}),
  })
  const frame = () => session.handleFrame({ bitmap: { close() {} } as ImageBitmap, capturedAt: 1_000, width: 640, height: 480, captureMs: 1 })
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve()
  }
  return { worker, link, events, skips, shadow, s, frame, settle }
}

describe('station session', () => {
  it('skips a frame the prefilter calls unchanged: counted, released in the worker, never sent', async () => {
    const t = setup()
    t.worker.outputs = { ...sharp, change: 0.001 }
    t.frame()
    await t.settle()
    expect(t.skips.pending.unchanged).toBe(1)
    expect(t.worker.calls).toEqual(['admit prefilter', expect.stringMatching(/^release /)])
    expect(t.link.sent).toEqual([])
  })

  it('sends the audit sample of skipped frames flagged audit, without making them the reference', async () => {
    const t = setup({ settings: settings({ auditFraction: 0.1, policy: 'server-only' }) }, () => 0.05)
    t.worker.outputs = { ...sharp, sharpness: 0.001 }
    t.frame()
    await t.settle()
    expect(t.skips.pending.blur).toBe(1)
    expect(t.link.sent).toHaveLength(1)
    expect(t.link.sent[0]).toMatchObject({ audit: true, shadow: false })
    expect(t.worker.finishes[0]!.o).toMatchObject({ encode: 'always', reference: false })
    expect(t.events.find((e) => e.type === 'prefilter')).toMatchObject({ verdict: { skip: 'blur', hint: 'blur' }, audit: true })
  })

  it('sends a frame that passes the prefilter to the server and keeps it as the reference', async () => {
    const t = setup({ settings: settings({ policy: 'server-only' }) })
    t.frame()
    await t.settle()
    expect(t.link.sent).toHaveLength(1)
    expect(t.link.sent[0]).toMatchObject({ audit: false, timings: { encode: 4 } })
    expect(t.worker.finishes[0]!.o).toMatchObject({ encode: 'always', detect: false, reference: true, scoreOverrides: { scratch: 0.6 } })
  })

  it('infers locally when routed to the browser, with the JPEG only for a failing part', async () => {
    const t = setup({ settings: settings({ policy: 'browser-preferred' }) })
    t.frame()
    await t.settle()
    t.worker.verdict = 'fail'
    t.frame()
    await t.settle()
    const local = t.events.filter((e) => e.type === 'local-result')
    expect(local).toHaveLength(2)
    expect(t.link.sent).toEqual([])
    const [pass, fail] = local as Extract<SessionEvent, { type: 'local-result' }>[]
    expect(pass!.image).toBeUndefined()
    expect(fail!.image).toMatchObject({ mime: 'image/jpeg', width: 640, height: 480 })
    expect(fail!.result).toMatchObject({
      line: 'L1', station: 'S1', inferredAt: 'browser', ep: 'wasm', verdict: 'fail', source: 'browser', width: 640, height: 480,
      model: { name: 'detector', version: '2.0.0' }, timings: { capture: 1, prefilter: 2, infer: 30, encode: 4 },
    })
    expect(t.worker.finishes.map((f) => f.o.encode)).toEqual(['if-fail', 'if-fail'])
  })

  it('infers the shadow sample on both sides and remembers the local detections for the server result', async () => {
    const t = setup({ settings: settings({ policy: 'server-only', shadowFraction: 0.05 }) }, () => 0.01)
    t.worker.verdict = 'fail'
    t.frame()
    await t.settle()
    expect(t.link.sent[0]).toMatchObject({ shadow: true })
    expect(t.shadow.size).toBe(1)
    const frameId = t.link.sent[0]!.frameId
    const check = t.shadow.resolve({
      frameId, line: 'L1', station: 'S1', capturedAt: 1_000, model: { name: 'detector', version: '2.0.0' }, inferredAt: 'server', ep: 'cpu',
      detections: [], verdict: 'pass', timings: {},
    })
    expect(check).toEqual({ type: 'shadow', frameId, ep: 'wasm', matched: 0, unmatched: 1 })
  })

  it('drops a frame as offline when the server is unreachable and no local backend is ready', async () => {
    const t = setup({ local: null })
    t.link.online = false
    t.frame()
    await t.settle()
    expect(t.link.drops).toEqual(['offline'])
    expect(t.worker.calls).toEqual(['admit plain', expect.stringMatching(/^release /)])
  })

  it('drops frames while the worker already holds as many as allowed', async () => {
    const t = setup()
    t.worker.hold = true
    t.frame()
    t.frame()
    t.frame()
    await t.settle()
    expect(t.link.drops).toEqual(['encoder'])
    t.worker.releaseHeld()
    await t.settle()
    t.frame()
    await t.settle()
    expect(t.link.drops).toEqual(['encoder'])
  })
})

describe('station session with parts', () => {
  function parts(over: Partial<InspectionSettings>) {
    const ends: Omit<PartEndMessage, 'type'>[] = []
    const inspection = { ...DEFAULT_INSPECTION, ...over }
    return { ends, assembler: new PartAssembler({ station: 'S1', view: () => stationInspection(inspection, 'S1'), onEnd: (e) => ends.push(e) }) }
  }

  it('in trigger mode inspects nothing until a trigger, then exactly its burst, each frame carrying the part id', async () => {
    const p = parts({ mode: 'trigger', burstFrames: 2 })
    const t = setup({}, () => 0.5, p.assembler)
    t.frame()
    await t.settle()
    expect(t.link.sent).toEqual([])
    p.assembler.trigger('PLC-9')
    t.frame()
    t.frame()
    await t.settle()
    t.frame()
    await t.settle()
    expect(t.link.sent.map((f) => f.partId)).toEqual(['PLC-9', 'PLC-9'])
    expect(p.ends).toEqual([{ partId: 'PLC-9', frames: t.link.sent.map((f) => f.frameId), reason: 'burst', idSource: 'trigger' }])
  })

  it('sends a burst frame the prefilter would skip: a triggered part is inspected whatever it looks like', async () => {
    const p = parts({ mode: 'trigger', burstFrames: 1 })
    const t = setup({}, () => 0.5, p.assembler)
    t.worker.outputs = { ...sharp, change: 0.001 }
    p.assembler.trigger('PLC-10')
    t.frame()
    await t.settle()
    expect(t.link.sent.map((f) => f.partId)).toEqual(['PLC-10'])
  })

  it('names a burst triggered without an id from a code read in its frames', async () => {
    const p = parts({ mode: 'trigger', burstFrames: 2 })
    const t = setup({}, () => 0.5, p.assembler)
    t.worker.codes = [null, 'SN-0042/7']
    p.assembler.trigger()
    t.frame()
    t.frame()
    await t.settle()
    expect(t.link.sent.map((f) => f.partId)).toEqual(['SN-0042/7', 'SN-0042/7'])
    expect(p.ends).toEqual([{ partId: 'SN-0042/7', frames: t.link.sent.map((f) => f.frameId), reason: 'burst', idSource: 'barcode' }])
  })

  it('reads no code when the trigger named the part', async () => {
    const p = parts({ mode: 'trigger', burstFrames: 1 })
    const t = setup({}, () => 0.5, p.assembler)
    t.worker.codes = ['SN-1']
    p.assembler.trigger('PLC-11')
    t.frame()
    await t.settle()
    expect(t.worker.calls.filter((c) => c.startsWith('code '))).toEqual([])
    expect(t.link.sent.map((f) => f.partId)).toEqual(['PLC-11'])
  })

  it('in presence mode inspects the sharpest frames of a passage once the part has left, named by its code', async () => {
    const p = parts({ mode: 'presence', presenceFrames: 2 })
    const t = setup({}, () => 0.5, p.assembler)
    t.worker.outputs = { ...sharp, part_present: 0.1 }
    t.frame()
    await t.settle()
    expect(t.link.sent).toEqual([])
    // the frame ids in the order captured, from the worker's calls
    const admitted = () => t.worker.calls.filter((c) => c.startsWith('code ')).map((c) => c.slice(5))
    t.worker.codes = [null, 'LS-7-001']
    for (const sharpness of [0.01, 0.03, 0.02, 0.05]) {
      t.worker.outputs = { ...sharp, sharpness }
      t.frame()
      await t.settle()
    }
    // the code is read until found, and nothing is sent while the part is in view
    expect(admitted()).toHaveLength(2)
    expect(t.link.sent).toEqual([])
    t.worker.outputs = { ...sharp, part_present: 0.1 }
    for (let i = 0; i < 2; i++) {
      t.frame()
      await t.settle()
    }
    expect(t.link.sent.map((f) => f.partId)).toEqual(['LS-7-001', 'LS-7-001'])
    expect(p.ends).toEqual([{ partId: 'LS-7-001', frames: t.link.sent.map((f) => f.frameId), reason: 'passage', idSource: 'barcode' }])
    // the second (0.03) and the fourth (0.05) captured frames: the sharpest two, in capture order
    const [, second] = admitted()
    expect(t.link.sent[0]!.frameId).toBe(second)
    expect(t.worker.calls.filter((c) => c.startsWith('release ')).length).toBeGreaterThanOrEqual(2)
  })

  it('in presence mode names a passage without a code from the station\'s sequence', async () => {
    const p = parts({ mode: 'presence', presenceFrames: 3 })
    const t = setup({}, () => 0.5, p.assembler)
    for (let i = 0; i < 2; i++) {
      t.frame()
      await t.settle()
    }
    t.worker.outputs = { ...sharp, part_present: 0.1 }
    for (let i = 0; i < 2; i++) {
      t.frame()
      await t.settle()
    }
    expect(t.link.sent).toHaveLength(2)
    expect(t.link.sent[0]!.partId).toMatch(/^S1-/)
    expect(p.ends).toEqual([{ partId: t.link.sent[0]!.partId, frames: t.link.sent.map((f) => f.frameId), reason: 'passage', idSource: 'sequence' }])
  })
})
