/**
 * Letterbox geometry, computed exactly as Ultralytics' `LetterBox` and `scale_boxes` do it, so that
 * a user's own `yolo export` model sees the same pixels here as in their training pipeline.
 */
export type Box = [x1: number, y1: number, x2: number, y2: number]

export interface Letterbox {
  srcWidth: number
  srcHeight: number
  dstWidth: number
  dstHeight: number
  /** Resize factor applied to the source before padding. */
  scale: number
  resizedWidth: number
  resizedHeight: number
  /** Left and top padding in destination pixels. */
  padX: number
  padY: number
}

export function computeLetterbox(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Letterbox {
  if (!(srcWidth > 0 && srcHeight > 0 && dstWidth > 0 && dstHeight > 0)) {
    throw new RangeError(`letterbox needs positive sizes, got ${srcWidth}x${srcHeight} -> ${dstWidth}x${dstHeight}`)
  }
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight)
  const resizedWidth = Math.round(srcWidth * scale)
  const resizedHeight = Math.round(srcHeight * scale)
  // Ultralytics rounds `dw - 0.1` so an odd padding puts the extra pixel on the right/bottom.
  // `|| 0` turns Math.round(-0.1) === -0 into a plain 0.
  const padX = Math.round((dstWidth - resizedWidth) / 2 - 0.1) || 0
  const padY = Math.round((dstHeight - resizedHeight) / 2 - 0.1) || 0
  return { srcWidth, srcHeight, dstWidth, dstHeight, scale, resizedWidth, resizedHeight, padX, padY }
}

/** Maps a box from model-input pixels back to source-image pixels, clipped to the image. */
export function unletterboxBox(box: Box, lb: Letterbox): Box {
  const clip = (v: number, max: number) => (v < 0 ? 0 : v > max ? max : v)
  return [
    clip((box[0] - lb.padX) / lb.scale, lb.srcWidth),
    clip((box[1] - lb.padY) / lb.scale, lb.srcHeight),
    clip((box[2] - lb.padX) / lb.scale, lb.srcWidth),
    clip((box[3] - lb.padY) / lb.scale, lb.srcHeight),
  ]
}

/**
 * The model-size uplink: a station sends its camera frame (`from`) resized into the serving model's
 * input, as `computeLetterbox(from, input)` says, without the padding (the server pads for free);
 * the image the server gets is then `image`. The size a station sends for a model input.
 */
export function uplinkSize(from: { width: number; height: number }, input: { width: number; height: number }): { width: number; height: number } {
  const lb = computeLetterbox(from.width, from.height, input.width, input.height)
  // never enlarge: a camera frame smaller than the model goes as it is
  return lb.scale >= 1 ? { width: from.width, height: from.height } : { width: lb.resizedWidth, height: lb.resizedHeight }
}

/** Maps a box found in an uplink image (`image` pixels) back to the camera frame it came from. */
export function uplinkBoxToFrame(box: Box, from: { width: number; height: number }, image: { width: number; height: number }): Box {
  return unletterboxBox(box, computeLetterbox(from.width, from.height, image.width, image.height))
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]))
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]))
  const inter = ix * iy
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
  return union > 0 ? inter / union : 0
}
