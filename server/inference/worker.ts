/**
 * Inference worker thread: holds one onnxruntime session per loaded model version and turns a
 * batch of encoded frames into detections (decode + letterbox, one model call, decode + NMS).
 * Started by pool.ts through spawn.ts; speaks messages.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { classThresholds } from '../../shared/domain/manifest.ts'
import { decodeDetections, type OutputTensor } from '../../shared/inference/decode.ts'
import type { FrameFailed, FrameOk, FromWorker, InferRequest, ToWorker, WireError, WorkerInit } from './messages.ts'
import { verdictOf } from '../../shared/domain/verdict.ts'
import { THUMBNAIL_MAX_PX } from '../storage/images.ts'
import { configureSharp, encodeThumbnail, letterboxInto } from './preprocess.ts'
import { InferenceError } from './types.ts'
import { ProviderError } from './providers.ts'
import { lowerOwnPriority } from './thread-priority.ts'
import { ModelCheckError, loadWorkerModel, runBatch, type WorkerModel } from './worker-model.ts'

if (!parentPort) throw new Error('worker.ts runs as a worker thread (see spawn.ts)')
const port = parentPort
const init = workerData as WorkerInit
/** The same for every frame of this thread. */
const preprocessOptions = { maxPixels: init.maxPixels, fullFrameDecoder: init.fullFrameDecoder }
// Before any session exists: onnxruntime's threads inherit this thread's nice value and policy when it creates them.
const priority = init.background ? lowerOwnPriority() : undefined
// libvips' settings are the process's, not this thread's: the verdict workers' values hold.
if (!init.background) configureSharp(init.threads)

const models = new Map<string, WorkerModel>()
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

function toWire(e: unknown, fallback: WireError['code']): WireError {
  if (e instanceof InferenceError) return { code: e.code, message: e.message, permanent: e.permanent }
  if (e instanceof ModelCheckError || e instanceof ProviderError) return { code: e.code, message: e.message, permanent: true }
  return { code: fallback, message: (e as Error)?.message ?? String(e), permanent: fallback === 'load_failed' }
}

function applyTestHooks(req: InferRequest): void {
  const hooks = init.testHooks
  if (!hooks) return
  for (const f of req.frames) {
    if (f.frameId === hooks.crashOnFrameId) process.exit(70)
    if (f.frameId === hooks.hangOnFrameId) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
}

async function infer(req: InferRequest): Promise<void> {
  const model = models.get(req.key)
  if (!model) {
    send({ type: 'error', id: req.id, error: { code: 'unknown_model', message: `model ${req.key} is not loaded in this worker`, permanent: false } })
    return
  }
  if (req.frames.length > model.maxBatch) {
    send({ type: 'error', id: req.id, error: { code: 'unknown_model', message: `batch of ${req.frames.length} exceeds ${model.maxBatch} for ${req.key}`, permanent: false } })
    return
  }
  applyTestHooks(req)
  const size = 3 * model.width * model.height

  // Frames decode concurrently (libvips runs them on the libuv pool), each into its own slot. A
  // slot's pixels are reused by the next request: requests run one at a time in this thread (see
  // `chain` below), and a frame's pixels are not needed once its thumbnail is made.
  const pre = await Promise.all(
    req.frames.map(async (f, i) => {
      const t0 = performance.now()
      try {
        const p = await letterboxInto(f.image, model.pixels, i, preprocessOptions)
        return { ok: true as const, p, ms: performance.now() - t0 }
      } catch (e) {
        return { ok: false as const, error: toWire(e, 'undecodable') }
      }
    }),
  )
  // Close the gaps a refused frame left, so the model only sees real frames.
  const slotOf: number[] = []
  let n = 0
  pre.forEach((r, i) => {
    if (!r.ok) return
    if (n !== i) model.pixels.tensor.copyWithin(n * size, i * size, (i + 1) * size)
    slotOf[i] = n++
  })

  let inferMs = 0
  let out: OutputTensor | undefined
  if (n > 0) {
    const t0 = performance.now()
    out = await runBatch(model, n)
    inferMs = performance.now() - t0
  }
  const frames = await Promise.all(pre.map(async (r, i): Promise<FrameOk | FrameFailed> => {
    if (!r.ok) return { ok: false, error: r.error }
    const t1 = performance.now()
    const detections = decodeDetections(out!, {
      classes: model.manifest.classes,
      scoreThreshold: classThresholds(model.manifest, req.frames[i]!.scoreThresholds),
      iouThreshold: model.manifest.thresholds.iou,
      letterbox: r.p.letterbox,
      batchIndex: slotOf[i]!,
      layout: model.layout,
    })
    const postprocessMs = performance.now() - t1
    // a failing frame's picture is kept by the store (STORE_IMAGES): its thumbnail is cheapest here,
    // and a frame already within the thumbnail's size (a station's model-size frame) is its own
    let thumbnail: Uint8Array | undefined
    if (!init.background && verdictOf(detections, model.manifest.defectClasses) === 'fail') {
      const own = r.p.uprightJpeg && r.p.width <= THUMBNAIL_MAX_PX && r.p.height <= THUMBNAIL_MAX_PX
      thumbnail = own ? req.frames[i]!.image : await encodeThumbnail(r.p.rgb, THUMBNAIL_MAX_PX).catch(() => undefined)
    }
    return { ok: true, detections, width: r.p.width, height: r.p.height, decodeMs: r.ms, postprocessMs, image: req.frames[i]!.image, ...(thumbnail ? { thumbnail } : {}) }
  }))
  // the images came in transferred and go back the same way: a round trip without a copy
  const back = new Set<ArrayBuffer>()
  for (const f of frames) {
    if (f.ok && f.image && f.image.byteLength === f.image.buffer.byteLength) back.add(f.image.buffer as ArrayBuffer)
    if (f.ok && f.thumbnail && f.thumbnail.byteLength === f.thumbnail.buffer.byteLength) back.add(f.thumbnail.buffer as ArrayBuffer)
  }
  send({ type: 'inferred', id: req.id, frames, batchSize: n, inferMs }, [...back])
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load': {
      try {
        const model = await loadWorkerModel(msg, init.threads)
        const old = models.get(msg.key)
        models.set(msg.key, model)
        if (old) await old.session.release()
        send({ type: 'loaded', id: msg.id, key: msg.key, ep: model.ep, providerErrors: model.providerErrors, maxBatch: model.maxBatch })
      } catch (e) {
        send({ type: 'error', id: msg.id, error: toWire(e, 'load_failed') })
      }
      return
    }
    case 'unload': {
      const model = models.get(msg.key)
      models.delete(msg.key)
      if (model) await model.session.release()
      send({ type: 'unloaded', id: msg.id })
      return
    }
    case 'infer': {
      try {
        await infer(msg)
      } catch (e) {
        // The model call itself failed (not one frame): the whole batch is retryable elsewhere.
        send({ type: 'error', id: msg.id, error: toWire(e, 'worker_crashed') })
      }
      return
    }
    case 'close': {
      for (const m of models.values()) await m.session.release()
      models.clear()
      send({ type: 'closed', id: msg.id })
      port.close()
      return
    }
  }
}

// One message at a time: the pool never sends a second batch before the first is answered, and
// loads must not interleave with a batch that reuses the same input tensor.
let chain = Promise.resolve()
port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg)).catch((e: unknown) => send({ type: 'error', id: msg.id, error: toWire(e, 'worker_crashed') }))
})
send({ type: 'ready', id: 0, ...(priority ? { priority } : {}) })
