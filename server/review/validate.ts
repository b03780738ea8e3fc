/**
 * Checks a reviewer's boxes against the frame they describe: every class one of the frame's
 * model's classes, every box inside the image with a positive area. Errors are coded values;
 * server/api/review.ts maps the codes to HTTP statuses.
 */
import { REVIEW_LIMITS, ReviewInputSchema, type ReviewedDetection, type ReviewInput } from '../../shared/domain/review.ts'

export type ReviewErrorCode = 'invalid_review' | 'unknown_class' | 'box_outside_image' | 'empty_box' | 'no_image_size' | 'unknown_model'

export class ReviewError extends Error {
  override name = 'ReviewError'
  constructor(
    readonly code: ReviewErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Parses the body of `POST /api/v1/results/:frameId/review`. */
export function parseReviewInput(json: unknown): ReviewInput {
  const parsed = ReviewInputSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
    throw new ReviewError('invalid_review', `${issues} (expected {"verdict":"pass"|"fail","detections":[{"class","box":[x1,y1,x2,y2]}]}, at most ${REVIEW_LIMITS.maxDetections} boxes, in image pixels)`)
  }
  return parsed.data
}

/**
 * Resolves class names to the model's class ids and checks each box against the image size.
 * A box may touch the image's edge (x2 = width) but not cross it.
 */
export function checkDetections(input: ReviewInput, classes: readonly string[], size: { width: number; height: number }): ReviewedDetection[] {
  return input.detections.map((d, i) => {
    const classId = classes.indexOf(d.class)
    if (classId < 0) throw new ReviewError('unknown_class', `detections.${i}.class: "${d.class}" is not one of the model's classes (${classes.join(', ')})`)
    const [x1, y1, x2, y2] = d.box
    if (x1 < 0 || y1 < 0 || x2 > size.width || y2 > size.height) {
      throw new ReviewError('box_outside_image', `detections.${i}.box: [${d.box.join(', ')}] is outside the ${size.width}x${size.height} image`)
    }
    if (!(x2 > x1 && y2 > y1)) throw new ReviewError('empty_box', `detections.${i}.box: x2 must exceed x1 and y2 exceed y1, got [${d.box.join(', ')}]`)
    return { class: d.class, classId, box: [x1, y1, x2, y2] }
  })
}
