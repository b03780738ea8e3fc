/** The committed sample images and their ground truth (models/samples/samples.json). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Box } from '../../shared/inference/letterbox.ts'
import { ROOT } from './server.ts'

export interface Sample {
  file: string
  case: string
  width: number
  height: number
  boxes: { class: string; box: Box }[]
  bytes: Buffer
}

export function loadSamples(): Sample[] {
  const dir = join(ROOT, 'models/samples')
  const index = JSON.parse(readFileSync(join(dir, 'samples.json'), 'utf8')) as { samples: Omit<Sample, 'bytes'>[] }
  return index.samples.map((s) => ({ ...s, bytes: readFileSync(join(dir, s.file)) }))
}
