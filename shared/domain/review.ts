/**
 * Reviews: a person's verdict and boxes for a recorded frame. A review never changes the frame's
 * record; it is stored beside it, and the latest review of a frame is what a dataset exports.
 */
import { z } from 'zod'

/** Why a frame is waiting for a person. */
export const REVIEW_REASONS = [
  'near_threshold', // a detection scored close to its class threshold
  'shadow', // browser and server disagreed on a shadow-checked frame
  'audit', // a frame the prefilter would have skipped had detections
  'candidate', // the candidate model disagreed with the current one
  'flag', // an operator said the verdict is wrong
] as const
export type ReviewReason = (typeof REVIEW_REASONS)[number]

export const REVIEW_STATUSES = ['open', 'reviewed'] as const
export type ReviewStatus = (typeof REVIEW_STATUSES)[number]

/** Limits of `POST /api/v1/results/:frameId/review`. */
export const REVIEW_LIMITS = { maxDetections: 500, maxNoteLength: 500 } as const

export const ReviewedDetectionSchema = z.strictObject({
  class: z.string().min(1).max(64),
  /** x1, y1, x2, y2 in the frame's pixels. */
  box: z.tuple([z.number().finite(), z.number().finite(), z.number().finite(), z.number().finite()]),
})

export const ReviewInputSchema = z.strictObject({
  verdict: z.enum(['pass', 'fail']),
  detections: z.array(ReviewedDetectionSchema).max(REVIEW_LIMITS.maxDetections),
})
export type ReviewInput = z.infer<typeof ReviewInputSchema>

export const FlagInputSchema = z.strictObject({
  /** What the operator saw, free text. */
  note: z.string().max(REVIEW_LIMITS.maxNoteLength).optional(),
})

export interface ReviewedDetection {
  class: string
  /** Index in the class list of the frame's model. */
  classId: number
  box: [number, number, number, number]
}

export interface Review {
  id: number
  frameId: string
  line: string
  capturedAt: number
  verdict: 'pass' | 'fail'
  detections: ReviewedDetection[]
  /** Who reviewed (token id and label). */
  reviewer: string
  /** ms since the epoch. */
  at: number
}

export interface ReviewQueueItem {
  frameId: string
  line: string
  capturedAt: number
  reasons: ReviewReason[]
  status: ReviewStatus
  /** When the frame first entered the queue. */
  queuedAt: number
  /** Operator flags: who and what they wrote. */
  flaggedBy?: string
  note?: string
  /** The latest review, once there is one. */
  review?: Review
}
