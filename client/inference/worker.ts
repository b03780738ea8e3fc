/**
 * The station's inference worker (a dedicated Web Worker exposed with comlink): onnxruntime-web
 * for the prefilter and the detector, and the JPEG encoder. Frames arrive as transferred
 * ImageBitmaps and stay here until the main thread says what to do with them, so their pixels
 * never cross the thread boundary again; encoded bytes leave by transfer.
 */
import * as Comlink from 'comlink'
import type { DetectManifest, PrefilterManifest } from '../../shared/domain/manifest.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { ModelRef } from '../../shared/protocol/messages/welcome.ts'
import { CANDIDATE_EPS, type Admitted, type EncodedFrame, type EncodeOptions, type CandidateReport, type Finished, type FinishOptions, type InferenceWorkerApi, type InitOptions, type InitReport, type ModelLoad, type WorkerReply } from './api.ts'
import { measure, releaseRunners, type LoadedModels, type Runners } from './candidates.ts'
import { pickFastest } from './timing.ts'
import { readCode as readCodeIn } from './codes.ts'
import { encodeBitmap, transferEncoded } from './encode.ts'
import { EvidenceRing } from './evidence-ring.ts'
import { FrameStore } from './frames.ts'
import { fetchImmutable, fetchManifest, MODEL_CACHE, pruneCaches } from './model-cache.ts'
import { configureOrt, RUNTIME_WASM_URL } from './ort-runtime.ts'

const frames = new FrameStore()
const originals = new EvidenceRing()
let runners: Runners | null = null
// a second init (new model version) waits for the first, so two never measure at once
let initializing: Promise<unknown> = Promise.resolve()

function fail<T>(code: string, message: string): WorkerReply<T> {
  return { ok: false, error: { code, message } }
}

async function loadModel<M>(ref: ModelRef, task: 'detect' | 'prefilter', loads: ModelLoad[]): Promise<WorkerReply<{ bytes: Uint8Array; manifest: M }>> {
  const manifest = await fetchManifest(ref)
  if (!manifest.ok) return manifest
  if (manifest.value.value.task !== task) return fail('wrong_task', `${ref.manifestUrl} is a ${manifest.value.value.task} model, not ${task}`)
  const file = await fetchImmutable(ref.url, MODEL_CACHE, ref.sha256)
  if (!file.ok) return file
  loads.push({ name: ref.name, version: ref.version, bytes: file.value.value.length, fromCache: file.value.fromCache && manifest.value.fromCache })
  return { ok: true, value: { bytes: file.value.value, manifest: manifest.value.value as M } }
}

async function init(options: InitOptions): Promise<WorkerReply<InitReport>> {
  const run = initializing.then(() => initNow(options))
  initializing = run
  return run
}

async function initNow(options: InitOptions): Promise<WorkerReply<InitReport>> {
  const started = performance.now()
  try {
    if (runners) {
      const old = runners
      runners = null
      await releaseRunners(old)
    }
    const runtime = await configureOrt()
    if (!runtime.ok) return runtime
    const runtimeDone = performance.now()
    const loads: ModelLoad[] = []
    const detector = await loadModel<DetectManifest>(options.models.detector, 'detect', loads)
    if (!detector.ok) return detector
    let prefilter: LoadedModels['prefilter'] = null
    let prefilterError: WireError | undefined
    if (options.models.prefilter) {
      const p = await loadModel<PrefilterManifest>(options.models.prefilter, 'prefilter', loads)
      // the detector still runs without a prefilter; the station shows why frames are not filtered
      if (p.ok) prefilter = p.value
      else prefilterError = p.error
    }
    const models: LoadedModels = { detector: detector.value, prefilter }
    const modelsDone = performance.now()

    const candidates: CandidateReport[] = []
    let best: Runners | null = null
    for (const ep of options.eps ?? CANDIDATE_EPS) {
      const m = await measure(ep, models, { runs: options.runs, budgetMs: options.budgetMs })
      candidates.push(m.report)
      if (!m.runners) continue
      // keep only the best so far: two backends' sessions and GPU buffers at once are not needed
      if (best && pickFastest(candidates.filter((c) => c.ep === best!.ep || c.ep === ep))?.ep === best.ep) await releaseRunners(m.runners)
      else {
        if (best) await releaseRunners(best)
        best = m.runners
      }
    }
    runners = best
    await pruneCaches([options.models.detector, ...(options.models.prefilter ? [options.models.prefilter] : [])], RUNTIME_WASM_URL)
    const report: InitReport = {
      ep: best?.ep ?? null,
      candidates,
      detector: detector.value.manifest,
      prefilter: best?.prefilter?.manifest ?? null,
      models: loads,
      runtimeFromCache: runtime.value.fromCache,
      loadMs: performance.now() - started,
      phasesMs: { runtime: runtimeDone - started, models: modelsDone - runtimeDone, backends: performance.now() - modelsDone },
    }
    if (prefilterError) report.prefilterError = prefilterError
    return { ok: true, value: report }
  } catch (e) {
    return fail('init_failed', (e as Error).message)
  }
}

async function admit(frameId: string, bitmap: ImageBitmap, options: { prefilter: boolean }): Promise<WorkerReply<Admitted>> {
  const frame = frames.hold(frameId, bitmap)
  const admitted: Admitted = { width: frame.width, height: frame.height }
  const p = runners?.prefilter
  if (!options.prefilter || !p) return { ok: true, value: admitted }
  try {
    const started = performance.now()
    frame.small = p.downscale(frames.pixels(frame))
    const hasReference = p.hasReference
    const outputs = await p.run(frame.small)
    admitted.prefilter = { outputs, hasReference, ms: performance.now() - started }
    return { ok: true, value: admitted }
  } catch (e) {
    frames.release(frameId)
    return fail('prefilter_failed', (e as Error).message)
  }
}

async function finish(frameId: string, o: FinishOptions): Promise<WorkerReply<Finished>> {
  const frame = frames.get(frameId)
  if (!frame) return fail('frame_gone', `frame ${frameId} is not held by the worker (released or expired)`)
  const done: Finished = {}
  try {
    const r = runners
    if (o.reference && r?.prefilter) r.prefilter.setReference(frame.small ?? r.prefilter.downscale(frames.pixels(frame)))
    if (o.detect) {
      if (!r) {
        frames.release(frameId)
        return fail('not_ready', 'no local backend is ready')
      }
      done.detection = await r.detector.detect(frames.pixels(frame), o.scoreOverrides)
    }
  } catch (e) {
    frames.release(frameId)
    return fail('detect_failed', (e as Error).message)
  }
  const encode = o.encode === 'always' || (o.encode === 'if-fail' && done.detection?.verdict === 'fail')
  if (!encode) {
    frames.release(frameId)
    return { ok: true, value: done }
  }
  frames.take(frameId)
  const encoded = await encodeBitmap(frame.bitmap, o.encodeOptions, o.keepOriginal ? (original) => originals.put(frameId, original) : undefined)
  if (!encoded.ok) return encoded
  done.encoded = encoded.value
  return { ok: true, value: transferEncoded(done) }
}

function release(frameId: string): void {
  frames.release(frameId)
}

async function readCode(frameId: string): Promise<WorkerReply<string | null>> {
  const frame = frames.get(frameId)
  if (!frame) return fail('frame_gone', `frame ${frameId} is not held by the worker (released or expired)`)
  try {
    // the pixels the prefilter read back already, when it ran
    const p = frames.pixels(frame)
    return await readCodeIn(new ImageData(p.data as Uint8ClampedArray<ArrayBuffer>, p.width, p.height))
  } catch (e) {
    return fail('code_read_failed', (e as Error).message)
  }
}

async function evidence(frameId: string, options: Omit<EncodeOptions, 'fit'>): Promise<WorkerReply<EncodedFrame>> {
  const original = originals.take(frameId)
  if (!original) return fail('gone', `the original of frame ${frameId} is no longer held`)
  const encoded = await encodeBitmap(original, { mime: options.mime, quality: options.quality })
  return encoded.ok ? { ok: true, value: Comlink.transfer(encoded.value, [encoded.value.bytes.buffer]) } : encoded
}

const api: InferenceWorkerApi = { init, admit, finish, release, readCode, evidence }
Comlink.expose(api)
