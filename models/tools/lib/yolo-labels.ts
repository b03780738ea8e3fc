/** Reading a YOLO-format split (images/*.jpg + labels/*.txt, normalised cx cy w h). */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Box } from '../../../shared/inference/letterbox.ts'

export interface GroundTruth {
  classId: number
  box: Box
}

export function listImages(splitDir: string): string[] {
  return readdirSync(join(splitDir, 'images'))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
}

export function readYoloLabels(splitDir: string, image: string, width: number, height: number): GroundTruth[] {
  const file = join(splitDir, 'labels', image.replace(/\.[^.]+$/, '.txt'))
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 5)
    .map(([c, cx, cy, w, h]) => {
      const [x, y, bw, bh] = [Number(cx) * width, Number(cy) * height, Number(w) * width, Number(h) * height]
      return { classId: Number(c), box: [x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2] as Box }
    })
}
