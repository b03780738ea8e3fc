/**
 * `models/<name>/manifest.json`: everything the server and the browser need to know about a model.
 * Nothing else in linesight hard-codes class names, sizes or thresholds.
 */
import { z } from 'zod'

const Semverish = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'version: letters, digits and . + _ - only')
const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'name: lowercase letters, digits, _ and - (max 64)')
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256: 64 lowercase hex digits')
/** A file name inside the model's folder: never a path, so a manifest cannot point outside it. */
const FileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.onnx$/, 'file: a plain .onnx file name in the model folder')

export const ModelInputSchema = z.object({
  name: z.string().min(1),
  /** -1 marks a dynamic axis, e.g. [-1, 3, 320, 320]. */
  shape: z.array(z.number().int().min(-1)).min(2),
  layout: z.enum(['NCHW']),
  normalize: z.enum(['0-1']),
  letterboxPad: z.number().int().min(0).max(255),
})

export const DetectOutputSchema = z.object({
  name: z.string().min(1),
  format: z.enum(['yolov8', 'yolov5', 'end2end']),
})

export const PrefilterOutputSchema = z.object({
  name: z.string().min(1),
  format: z.literal('prefilter'),
  outputs: z.array(z.string().min(1)).min(1),
})

const Common = {
  name: Name,
  version: Semverish,
  file: FileName,
  sha256: Sha256,
  license: z.string().min(1),
  description: z.string().optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
}

export const DetectManifestSchema = z
  .object({
    ...Common,
    task: z.literal('detect'),
    input: ModelInputSchema,
    output: DetectOutputSchema,
    classes: z.array(z.string().min(1)).min(1),
    defectClasses: z.array(z.string().min(1)),
    thresholds: z.object({
      score: z.record(z.string(), z.number().min(0).max(1)),
      iou: z.number().gt(0).max(1),
    }),
  })
  .superRefine((m, ctx) => {
    for (const c of m.defectClasses) {
      if (!m.classes.includes(c)) ctx.addIssue({ code: 'custom', path: ['defectClasses'], message: `"${c}" is not one of classes` })
    }
  })

export const PrefilterManifestSchema = z.object({
  ...Common,
  task: z.literal('prefilter'),
  input: ModelInputSchema,
  output: PrefilterOutputSchema,
  inputs: z.array(z.string().min(1)).optional(),
  classes: z.array(z.string()).optional(),
  thresholds: z.record(z.string(), z.number()),
  webgpuOps: z.array(z.string()).optional(),
})

export const ModelManifestSchema = z.union([DetectManifestSchema, PrefilterManifestSchema])

export type DetectManifest = z.infer<typeof DetectManifestSchema>
export type PrefilterManifest = z.infer<typeof PrefilterManifestSchema>
export type ModelManifest = z.infer<typeof ModelManifestSchema>

export class ManifestError extends Error {
  override name = 'ManifestError'
}

/** Validates a parsed manifest; the error names the file and every field that is wrong. */
export function parseManifest(json: unknown, source: string): ModelManifest {
  const task = (json as { task?: unknown } | null)?.task
  const schema = task === 'prefilter' ? PrefilterManifestSchema : DetectManifestSchema
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new ManifestError(`${source}: invalid manifest: ${issues}`)
  }
  return parsed.data
}

/** Score threshold per class id, from a manifest's per-class map (missing classes use `fallback`). */
export function classThresholds(m: DetectManifest, overrides: Readonly<Record<string, number>> = {}, fallback = 0.25): Float32Array {
  return Float32Array.from(m.classes, (c) => overrides[c] ?? m.thresholds.score[c] ?? fallback)
}

export function inputSize(m: DetectManifest | PrefilterManifest): { width: number; height: number } {
  const s = m.input.shape
  return { height: s[s.length - 2]!, width: s[s.length - 1]! }
}
