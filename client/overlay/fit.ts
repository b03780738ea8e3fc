/**
 * Where an image lands inside a box when shown with CSS `object-fit`, and where a detection box
 * (in original image pixels) lands on screen. Detections come back in the pixels of the frame that
 * was sent, while the video is shown at whatever size the tablet or kiosk gives it.
 */
import type { Box } from '../../shared/inference/letterbox.ts'

export interface Fit {
  /** Screen pixels per image pixel. */
  scale: number
  /** Where the image's top-left corner lands inside the element, screen pixels. */
  offsetX: number
  offsetY: number
}

export interface ScreenRect {
  left: number
  top: number
  width: number
  height: number
}

/** `object-fit: contain`: the whole image visible, letterboxed. A degenerate size gives scale 0. */
export function containFit(imageWidth: number, imageHeight: number, viewWidth: number, viewHeight: number): Fit {
  if (!(imageWidth > 0 && imageHeight > 0 && viewWidth > 0 && viewHeight > 0)) return { scale: 0, offsetX: 0, offsetY: 0 }
  const scale = Math.min(viewWidth / imageWidth, viewHeight / imageHeight)
  return { scale, offsetX: (viewWidth - imageWidth * scale) / 2, offsetY: (viewHeight - imageHeight * scale) / 2 }
}

/** `object-fit: cover`: the element filled, the image cropped at the longer sides. */
export function coverFit(imageWidth: number, imageHeight: number, viewWidth: number, viewHeight: number): Fit {
  if (!(imageWidth > 0 && imageHeight > 0 && viewWidth > 0 && viewHeight > 0)) return { scale: 0, offsetX: 0, offsetY: 0 }
  const scale = Math.max(viewWidth / imageWidth, viewHeight / imageHeight)
  return { scale, offsetX: (viewWidth - imageWidth * scale) / 2, offsetY: (viewHeight - imageHeight * scale) / 2 }
}

/**
 * A detection box [x1, y1, x2, y2] in image pixels, on screen. Boxes are clamped to the image
 * first: a model may return coordinates slightly outside it, and the overlay must not spill over
 * the letterbox bars.
 */
export function boxToScreen(box: Box, fit: Fit, imageWidth: number, imageHeight: number): ScreenRect {
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max)
  const x1 = clamp(Math.min(box[0], box[2]), imageWidth)
  const x2 = clamp(Math.max(box[0], box[2]), imageWidth)
  const y1 = clamp(Math.min(box[1], box[3]), imageHeight)
  const y2 = clamp(Math.max(box[1], box[3]), imageHeight)
  return {
    left: fit.offsetX + x1 * fit.scale,
    top: fit.offsetY + y1 * fit.scale,
    width: (x2 - x1) * fit.scale,
    height: (y2 - y1) * fit.scale,
  }
}
