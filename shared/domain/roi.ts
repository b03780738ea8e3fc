/**
 * A station's region of interest: up to ROI_MAX_RECTS rectangles in normalised frame coordinates
 * (0..1, origin top left, `[x1, y1, x2, y2]` with x1 < x2, y1 < y2), drawn by an admin on a
 * snapshot of the station (line settings, `inspection.stations.<id>.roi`). A detection counts only
 * when its box centre lies inside one of them; the others are ignored, by the server and by a
 * browser inferring locally alike, so the verdict never sees them. No ROI (absent) means the whole
 * frame.
 */
import { z } from 'zod'
import type { Detection } from './detection.ts'

export const ROI_MAX_RECTS = 8
/** The smallest side of a rectangle, as a fraction of the frame (a click is not a region). */
export const ROI_MIN_SIDE = 0.01

const unit = z.number().finite().min(0).max(1)
export const RoiRectSchema = z
  .tuple([unit, unit, unit, unit])
  .refine(([x1, y1, x2, y2]) => x2 - x1 >= ROI_MIN_SIDE && y2 - y1 >= ROI_MIN_SIDE, {
    message: `a rectangle is [x1, y1, x2, y2] in 0..1 with x2 - x1 and y2 - y1 at least ${ROI_MIN_SIDE}`,
  })
export type RoiRect = z.infer<typeof RoiRectSchema>

export const RoiSchema = z.array(RoiRectSchema).min(1).max(ROI_MAX_RECTS)
export type Roi = z.infer<typeof RoiSchema>

/** Whether the centre of a box in frame pixels lies inside the ROI (edges included). */
export function centreInRoi(box: readonly [number, number, number, number], width: number, height: number, roi: readonly RoiRect[]): boolean {
  if (!(width > 0 && height > 0)) return true
  const cx = (box[0] + box[2]) / 2 / width
  const cy = (box[1] + box[3]) / 2 / height
  return roi.some(([x1, y1, x2, y2]) => cx >= x1 && cx <= x2 && cy >= y1 && cy <= y2)
}

/**
 * The detections a station's ROI keeps (boxes in frame pixels of a `width` x `height` frame). No
 * ROI, or a frame of unknown size, keeps every detection: ignoring defects by guesswork is worse
 * than reporting one outside the region.
 */
export function withinRoi<D extends Pick<Detection, 'box'>>(detections: readonly D[], width: number | undefined, height: number | undefined, roi: readonly RoiRect[] | undefined): D[] {
  if (!roi || roi.length === 0 || !width || !height) return [...detections]
  return detections.filter((d) => centreInRoi(d.box, width, height, roi))
}
