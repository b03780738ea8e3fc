/**
 * One model version inside a worker: its onnxruntime session, the reusable input tensor, and the
 * checks that make a file a detector we can serve (input as the manifest says, output in a format
 * the shared decoder knows). Those checks run on a real warm-up output, so a model whose shapes
 * are symbolic in the graph is judged by what it actually returns.
 */
import * as ort from 'onnxruntime-node'
import { inputSize, type DetectManifest } from '../../shared/domain/manifest.ts'
import { detectOutputFormat, type OutputLayout } from '../../shared/inference/formats.ts'
import type { LoadRequest, ProviderFailure } from './messages.ts'
import { PixelBuffers } from './pixels.ts'
import { createSession } from './providers.ts'

export interface WorkerModel {
  key: string
  manifest: DetectManifest
  session: ort.InferenceSession
  ep: string
  providerErrors: ProviderFailure[]
  layout: OutputLayout
  inputName: string
  outputName: string
  width: number
  height: number
  maxBatch: number
  /** The input tensor (maxBatch x 3 x H x W floats) and a pixel buffer per batch slot, reused by every batch. */
  pixels: PixelBuffers
}

export class ModelCheckError extends Error {
  override name = 'ModelCheckError'
  constructor(
    readonly code: 'manifest_mismatch' | 'not_a_detector',
    message: string,
  ) {
    super(message)
  }
}

function checkInput(session: ort.InferenceSession, m: DetectManifest): { batchFixed: boolean } {
  const { width, height } = inputSize(m)
  const name = m.input.name
  const i = session.inputNames.indexOf(name)
  if (i < 0) throw new ModelCheckError('manifest_mismatch', `the model has no input "${name}" (it has ${session.inputNames.join(', ')})`)
  if (session.inputNames.length !== 1) throw new ModelCheckError('manifest_mismatch', `expected one input, the model has ${session.inputNames.length}: ${session.inputNames.join(', ')}`)
  const meta = session.inputMetadata[i]
  if (!meta?.isTensor) throw new ModelCheckError('manifest_mismatch', `input "${name}" is not a tensor`)
  if (meta.type !== 'float32') throw new ModelCheckError('manifest_mismatch', `input "${name}" is ${meta.type}, expected float32`)
  const shape = meta.shape
  const fixed = (d: unknown, want: number) => typeof d !== 'number' || d === want
  if (shape.length !== 4 || !fixed(shape[1], 3) || !fixed(shape[2], height) || !fixed(shape[3], width)) {
    throw new ModelCheckError('manifest_mismatch', `input "${name}" has shape [${shape.join(', ')}], the manifest says [N, 3, ${height}, ${width}]`)
  }
  return { batchFixed: typeof shape[0] === 'number' && shape[0] > 0 }
}

function checkOutput(dims: readonly number[], m: DetectManifest, outputName: string): OutputLayout {
  let layout: OutputLayout
  try {
    layout = detectOutputFormat(dims, { numClasses: m.classes.length, ...(m.output.format === 'end2end' ? { end2end: true } : {}) }, outputName)
  } catch (e) {
    throw new ModelCheckError('not_a_detector', (e as Error).message)
  }
  if (layout.format !== m.output.format) {
    throw new ModelCheckError('not_a_detector', `output "${outputName}" with shape [${dims.join(', ')}] is ${layout.format}, the manifest says ${m.output.format}`)
  }
  return layout
}

export async function loadWorkerModel(req: LoadRequest, threads: number): Promise<WorkerModel> {
  const m = req.manifest
  const { session, ep, failures } = await createSession(req.bytes, req.eps, req.epFallback, {
    intraOpNumThreads: threads,
    // One batch runs at a time per worker; inter-op threads would only compete with the other workers.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // with more than one intra-op thread, onnxruntime's pool threads spin between a model's
    // operators and between frames: CPU the decode on the same cores needs (bench/FINDINGS.md, issue 16)
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  })
  try {
    const { batchFixed } = checkInput(session, m)
    if (!session.outputNames.includes(m.output.name)) {
      throw new ModelCheckError('manifest_mismatch', `the model has no output "${m.output.name}" (it has ${session.outputNames.join(', ')})`)
    }
    const { width, height } = inputSize(m)
    const maxBatch = batchFixed ? 1 : Math.max(1, req.maxBatch)
    const model: WorkerModel = {
      key: req.key,
      manifest: m,
      session,
      ep,
      providerErrors: failures,
      layout: { format: m.output.format, numClasses: m.classes.length, rows: 0 },
      inputName: m.input.name,
      outputName: m.output.name,
      width,
      height,
      maxBatch,
      pixels: new PixelBuffers({ width, height, pad: m.input.letterboxPad }, maxBatch),
    }
    // Warm up at batch 1 and at the largest batch, so the first real frames do not pay for
    // onnxruntime's lazy allocations and the output check sees real dimensions.
    for (const n of new Set([1, maxBatch])) {
      const out = await runBatch(model, n)
      model.layout = checkOutput(out.dims, m, m.output.name)
      if (out.dims[0] !== n) throw new ModelCheckError('not_a_detector', `a batch of ${n} gave an output batch of ${out.dims[0]}`)
    }
    return model
  } catch (e) {
    await session.release()
    throw e
  }
}

/** Runs the first `n` frames of the reusable input tensor. */
export async function runBatch(model: WorkerModel, n: number): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const size = 3 * model.width * model.height
  const feeds = { [model.inputName]: new ort.Tensor('float32', model.pixels.tensor.subarray(0, n * size), [n, 3, model.height, model.width]) }
  const results = await model.session.run(feeds, [model.outputName])
  const out = results[model.outputName]
  if (!out || out.type !== 'float32') throw new ModelCheckError('not_a_detector', `output "${model.outputName}" is missing or not float32`)
  return { data: out.data as Float32Array, dims: out.dims }
}
