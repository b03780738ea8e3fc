/**
 * A loop worker (see messages.ts): loads the model exactly as an engine worker does
 * (server/inference/worker-model.ts), then runs tasks: each is prepared, then run back to back
 * until its window closes, and what completed inside the window is reported.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { classThresholds } from '../../shared/domain/manifest.ts'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { configureSharp, letterboxInto } from '../../server/inference/preprocess.ts'
import { loadWorkerModel, runBatch, type WorkerModel } from '../../server/inference/worker-model.ts'
import type { FromLoop, LoopInit, ToLoop } from './messages.ts'

if (!parentPort) throw new Error('loop-worker.ts runs as a worker thread (see threads.ts)')
const port = parentPort
const init = workerData as LoopInit
const send = (m: FromLoop, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

const thresholds = classThresholds(init.manifest)
const preprocessOptions = { maxPixels: init.maxPixels, fullFrameDecoder: init.fullFrameDecoder }
const letterbox = (jpeg: Uint8Array, model: WorkerModel, slot = 0) => letterboxInto(jpeg, model.pixels, slot, preprocessOptions)

async function prepare(model: WorkerModel, task: Extract<ToLoop, { type: 'task' }>): Promise<() => Promise<number>> {
  const jpegs = init.frameSets[task.frameSet]!
  let next = 0
  // the model sees real frames' pixels, as it would in the engine
  for (let i = 0; i < task.batch; i++) await letterbox(jpegs[i % jpegs.length]!, model, i)
  const step = {
    model: async () => (await runBatch(model, task.batch), task.batch),
    decode: async () => (await letterbox(jpegs[next++ % jpegs.length]!, model), 1),
    pipeline: async () => {
      const p = await letterbox(jpegs[next++ % jpegs.length]!, model)
      const out = await runBatch(model, 1)
      decodeDetections(out, { classes: init.manifest.classes, scoreThreshold: thresholds, iouThreshold: init.manifest.thresholds.iou, letterbox: p.letterbox, layout: model.layout })
      return 1
    },
  }[task.mode]
  await step() // outside any window: onnxruntime's lazy allocations for this batch size
  return step
}

async function run(step: () => Promise<number>, startAt: number, endAt: number): Promise<void> {
  const latencies: number[] = []
  let frames = 0
  while (Date.now() < endAt) {
    const t0 = performance.now()
    const n = await step()
    const ms = performance.now() - t0
    const now = Date.now()
    if (now >= startAt && now <= endAt) {
      frames += n
      latencies.push(ms)
    }
  }
  const l = Float64Array.from(latencies)
  send({ type: 'done', frames, latencies: l }, [l.buffer])
}

async function main(): Promise<void> {
  configureSharp(init.threads)
  const model = await loadWorkerModel(
    { type: 'load', id: 0, key: 'bench', manifest: init.manifest, bytes: init.modelBytes, eps: ['cpu'], epFallback: false, maxBatch: init.maxBatch },
    init.threads,
  )
  let step: (() => Promise<number>) | undefined
  // one message at a time, in order, as the engine's worker does
  let chain = Promise.resolve()
  port.on('message', (m: ToLoop) => {
    chain = chain
      .then(async () => {
        if (m.type === 'task') {
          step = await prepare(model, m)
          send({ type: 'ready' })
        } else if (m.type === 'go') {
          if (!step) throw new Error('go before any task')
          await run(step, m.startAt, m.endAt)
        } else {
          await model.session.release()
          port.close()
        }
      })
      .catch((e: unknown) => send({ type: 'failed', message: (e as Error)?.stack ?? String(e) }))
  })
  send({ type: 'ready' })
}

main().catch((e: unknown) => send({ type: 'failed', message: (e as Error)?.stack ?? String(e) }))
