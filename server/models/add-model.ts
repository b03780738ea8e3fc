/**
 * Adding a user's own detection model (an Ultralytics `yolo export format=onnx`, a YOLOv5 export or
 * an NMS-free end-to-end export) without writing a manifest by hand.
 *
 * The file is inspected (onnx-inspect.ts: shapes, operators, Ultralytics `metadata_props`), run once
 * in onnxruntime-node on a blank frame to learn its real output shape, and its output format is
 * worked out by the same shared code the decoder uses (shared/inference/formats.ts). Only then is
 * anything written: the model and its manifest go into a hidden staging folder inside the models
 * folder, are checked by the same manifest parser the server uses, and the folder is renamed into
 * place (atomic on one filesystem). A refusal names its reason and leaves the models folder as it was.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { parseManifest, type DetectManifest } from '../../shared/domain/manifest.ts'
import { detectOutputFormat, UnknownOutputFormatError, type OutputLayout } from '../../shared/inference/formats.ts'
import { MetadataError, parseUltralyticsMetadata, type UltralyticsMetadata } from '../../shared/inference/ultralytics-metadata.ts'
import { inspectOnnx, OnnxParseError, quantization, type OnnxSummary } from './onnx-inspect.ts'

/** Ultralytics' own defaults for `predict` (conf 0.25); NMS IoU 0.45 as in its validation runs. */
export const DEFAULT_SCORE = 0.25
export const DEFAULT_IOU = 0.45
/** A model file larger than this is refused (the largest Ultralytics detector, YOLO11x, is about 230 MB as float32 ONNX); it is read into memory, and the admin API's upload is held whole. */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024

export class AddModelError extends Error {
  override name = 'AddModelError'
  constructor(
    message: string,
    /** `exists`: a model or version of that name is installed; `refused`: the file or the options are not usable. */
    readonly code: 'exists' | 'refused' = 'refused',
  ) {
    super(message)
  }
}

export interface AddModelOptions {
  /** Folder name and manifest name; default from the file name. */
  name?: string
  /** Default: the date and the first 8 hex digits of the sha256. */
  version?: string
  /** Class names, when the file's metadata has none. */
  classes?: string[]
  /** The classes that fail a part; default every class. */
  defectClasses?: string[]
  /** Replace an existing model of the same name (a new version, picked up by the running server). */
  replace?: boolean
  /** For tests: a fixed date. */
  now?: Date
}

export interface AddModelResult {
  dir: string
  manifest: DetectManifest
  /** What was read from the file, for the command's report. */
  summary: OnnxSummary
  layout: OutputLayout
  quantization?: string
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/

/** `a, b,c` -> ['a', 'b', 'c'], for --classes / --defects and their query parameters; undefined stays undefined. */
export const splitList = (v: string | null | undefined): string[] | undefined => (v == null ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean))

function defaultName(file: string): string {
  const stem = basename(file).replace(/\.onnx$/i, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '').slice(0, 64)
  return NAME.test(stem) ? stem : 'model'
}

const refuse = (file: string, why: string, code: AddModelError['code'] = 'refused'): never => {
  throw new AddModelError(`${basename(file)}: refused: ${why}; nothing was written`, code)
}

/** Works out the manifest for the model in `bytes` (named `file` in messages) without writing anything. */
export async function planModel(file: string, bytes: Uint8Array, opts: AddModelOptions = {}): Promise<AddModelResult> {
  if (bytes.length > MAX_MODEL_BYTES) refuse(file, `${bytes.length} bytes is over the ${MAX_MODEL_BYTES}-byte limit`)

  let summary: OnnxSummary
  try {
    summary = inspectOnnx(bytes)
  } catch (e) {
    if (e instanceof OnnxParseError) return refuse(file, `not an ONNX model (${e.message})`)
    throw e
  }
  let meta: UltralyticsMetadata
  try {
    meta = parseUltralyticsMetadata(summary.metadata)
  } catch (e) {
    if (e instanceof MetadataError) return refuse(file, e.message)
    throw e
  }
  if (meta.task !== undefined && meta.task !== 'detect') refuse(file, `its metadata says task "${meta.task}"; linesight runs detection models (task "detect")`)

  // input: one image tensor [N, 3, H, W] of float32
  if (summary.inputs.length !== 1) refuse(file, `it has ${summary.inputs.length} inputs (${summary.inputs.map((i) => i.name).join(', ')}); a detector has one image input`)
  const input = summary.inputs[0]!
  if (input.elemType !== 'float32') refuse(file, `input "${input.name}" is ${input.elemType}; export with float32 input (Ultralytics: half=False)`)
  if (input.shape.length !== 4 || input.shape[1] !== 3) refuse(file, `input "${input.name}" has shape [${input.shape.join(', ')}]; expected [N, 3, H, W]`)
  const fixed = (v: number | string | undefined) => (typeof v === 'number' && v > 0 ? v : undefined)
  const height = fixed(input.shape[2]) ?? meta.imgsz?.[0]
  const width = fixed(input.shape[3]) ?? meta.imgsz?.[1]
  if (!height || !width) refuse(file, `input "${input.name}" has no fixed size ([${input.shape.join(', ')}]) and the metadata has no imgsz; export with a fixed imgsz`)
  if (summary.outputs.length < 1) refuse(file, 'it has no outputs')
  const output = summary.outputs[0]!

  // the real output shape, from one run on a blank frame (dynamic axes are resolved, and a file
  // onnxruntime cannot load is refused here rather than in the running server)
  let dims: readonly number[]
  try {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'basic' })
    try {
      const blank = new ort.Tensor('float32', new Float32Array(3 * height! * width!).fill(114 / 255), [1, 3, height!, width!])
      const out = await session.run({ [input.name]: blank }, [output.name])
      dims = out[output.name]!.dims
    } finally {
      await session.release()
    }
  } catch (e) {
    return refuse(file, `onnxruntime-node cannot run it on a blank ${width}x${height} frame: ${(e as Error).message.split('\n')[0]}`)
  }

  const classes = meta.names ?? opts.classes
  let layout: OutputLayout
  try {
    layout = detectOutputFormat(dims, { ...(classes ? { numClasses: classes.length } : {}), ...(meta.end2end !== undefined ? { end2end: meta.end2end } : {}) }, output.name)
  } catch (e) {
    if (e instanceof UnknownOutputFormatError) return refuse(file, `${e.message}; it does not look like a detector`)
    throw e
  }
  if (!classes) return refuse(file, `its metadata has no class names (${layout.format} output with ${layout.numClasses || 'unknown'} classes); pass --classes a,b,c`)
  if (classes.some((c) => !c.trim())) refuse(file, 'a class name is empty')
  if (new Set(classes).size !== classes.length) refuse(file, 'class names repeat')

  const name = opts.name ?? defaultName(file)
  if (!NAME.test(name)) refuse(file, `name "${name}": lowercase letters, digits, _ and - only (max 64)`)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const date = (opts.now ?? new Date()).toISOString().slice(0, 10)
  const version = opts.version ?? `${date}-${sha256.slice(0, 8)}`
  const defectClasses = opts.defectClasses ?? classes
  const unknown = defectClasses.filter((c) => !classes.includes(c))
  if (unknown.length) refuse(file, `--defects names classes the model does not have: ${unknown.join(', ')}`)
  const quant = quantization(summary.ops)
  const ultralytics = summary.metadata.version ? `Ultralytics ${summary.metadata.version}` : summary.producer || 'unknown exporter'

  const manifest = parseManifest(
    {
      name,
      version,
      task: 'detect',
      file: `${name}-${version}.onnx`.replace(/[^A-Za-z0-9._-]/g, '_'),
      sha256,
      description: `Added by models:add from ${basename(file)} (${ultralytics}, ${layout.format} output ${JSON.stringify(dims)}${quant ? `, ${quant}` : ''})`,
      input: { name: input.name, shape: [typeof input.shape[0] === 'number' && input.shape[0] > 0 ? input.shape[0] : -1, 3, height, width], layout: 'NCHW', normalize: '0-1', letterboxPad: 114 },
      output: { name: output.name, format: layout.format },
      classes,
      defectClasses,
      thresholds: { score: Object.fromEntries(classes.map((c) => [c, DEFAULT_SCORE])), iou: DEFAULT_IOU },
      license: summary.metadata.license?.trim() || 'unknown: set the license of your model here',
    },
    `${basename(file)} (generated manifest)`,
  ) as DetectManifest
  return { dir: '', manifest, summary, layout, ...(quant ? { quantization: quant } : {}) }
}

/** Inspects the ONNX file `file` and installs it as `<modelsDir>/<name>/`; throws AddModelError, writing nothing, when it cannot. */
export async function addModel(file: string, modelsDir: string, opts: AddModelOptions = {}): Promise<AddModelResult> {
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => refuse(file, `cannot read it (${e.code ?? e.message})`))
  return addModelBytes(basename(file), bytes, modelsDir, opts)
}

/** Like addModel, for a model already in memory (the admin API's upload); `file` names it in messages and the default name. */
export async function addModelBytes(file: string, bytes: Uint8Array, modelsDir: string, opts: AddModelOptions = {}): Promise<AddModelResult> {
  const plan = await planModel(file, bytes, opts)
  const { manifest } = plan
  const dir = join(modelsDir, manifest.name)
  const exists = existsSync(join(dir, 'manifest.json'))
  if (existsSync(dir) && !exists) refuse(file, `${dir} exists and is not a model folder`, 'exists')
  if (exists && !opts.replace) refuse(file, `a model named "${manifest.name}" exists in ${modelsDir}; pass --name for another name or --replace for a new version of it`, 'exists')
  if (exists && existsSync(join(dir, manifest.file))) refuse(file, `version ${manifest.version} of "${manifest.name}" is already installed`, 'exists')

  await mkdir(modelsDir, { recursive: true })
  if (!exists) {
    // a hidden folder (the watcher and the registry skip those), renamed into place when complete
    const stage = await mkdtemp(join(modelsDir, `.add-${manifest.name}-`))
    try {
      await writeFile(join(stage, manifest.file), bytes)
      await writeFile(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
      await chmod(stage, 0o755) // mkdtemp makes it private
      await rename(stage, dir)
    } catch (e) {
      await rm(stage, { recursive: true, force: true })
      throw e
    }
  } else {
    // a new version beside the running one: the .onnx under its own name first, then the manifest
    // replaced by rename, so a reload never sees a manifest whose file is half written
    const tmp = join(dir, `.manifest-${process.pid}.json`)
    try {
      await writeFile(join(dir, manifest.file), bytes)
      await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`)
      await rename(tmp, join(dir, 'manifest.json'))
    } catch (e) {
      await rm(tmp, { force: true })
      throw e
    }
  }
  return { ...plan, dir }
}
