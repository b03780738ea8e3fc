/**
 * The golden outputs of the default detector on the committed samples (models/samples/golden.json,
 * written by models/tools/make-golden.ts) and the comparisons every runtime must pass.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Detection } from '../../shared/domain/detection.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { classThresholds } from '../../shared/domain/manifest.ts'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { iou, type Letterbox } from '../../shared/inference/letterbox.ts'
import type { Tensor } from './runtimes.ts'
import { ROOT } from './server.ts'

export interface GoldenSample {
  file: string
  /** The detector's version and sha256 these outputs belong to. */
  detections: Detection[]
  /** Ground-truth boxes the detector is known not to find (class and box), kept honest by the test. */
  knownMisses: { class: string; box: [number, number, number, number] }[]
}

export interface GoldenFile {
  model: { name: string; version: string; sha256: string }
  samples: GoldenSample[]
}

export const GOLDEN_PATH = join(ROOT, 'models/samples/golden.json')

export function readGolden(): GoldenFile {
  return JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile
}

export function decode(output: Tensor, manifest: DetectManifest, letterbox: Letterbox): Detection[] {
  return decodeDetections(output, { classes: manifest.classes, scoreThreshold: classThresholds(manifest), iouThreshold: manifest.thresholds.iou, letterbox })
}

/** Ground-truth boxes (class, IoU >= 0.5) that `detections` does not find. */
export function missing(truth: { class: string; box: [number, number, number, number] }[], detections: readonly Detection[]) {
  return truth.filter((t) => !detections.some((d) => d.class === t.class && iou(d.box, t.box) >= 0.5))
}

/** Differences beyond the parity tolerance (IoU >= 0.99, score within 1e-3), as readable lines. */
export function parityProblems(expected: readonly Detection[], got: readonly Detection[], tolerance = { iou: 0.99, score: 1e-3 }): string[] {
  const problems: string[] = []
  const used = new Set<number>()
  for (const e of expected) {
    const j = got.findIndex((g, k) => !used.has(k) && g.class === e.class && iou(g.box, e.box) >= tolerance.iou && Math.abs(g.score - e.score) <= tolerance.score)
    if (j < 0) problems.push(`missing ${e.class} ${e.score.toFixed(4)} at [${e.box.map((v) => v.toFixed(1)).join(', ')}]`)
    else used.add(j)
  }
  got.forEach((g, k) => {
    if (!used.has(k)) problems.push(`extra ${g.class} ${g.score.toFixed(4)} at [${g.box.map((v) => v.toFixed(1)).join(', ')}]`)
  })
  return problems
}
