import type { Box } from '../inference/letterbox.ts'

/** One detected object, box in original image pixels [x1, y1, x2, y2]. */
export interface Detection {
  classId: number
  class: string
  score: number
  box: Box
}
