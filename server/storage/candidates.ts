/**
 * A candidate model's detections, one row per frame it ran on in shadow, beside the current
 * model's record of the frame (never in it), and what the comparison needs read back.
 */
import type { DetectionRecord, InspectionResult } from '../../shared/domain/result.ts'
import type { ReviewedDetection } from '../../shared/domain/review.ts'
import type { Db } from './sql.ts'

export interface CandidateRun {
  frameId: string
  model: string
  version: string
  line: string
  capturedAt: number
  verdict: 'pass' | 'fail'
  detections: DetectionRecord[]
  agrees: boolean
}

export interface ReviewedComparison {
  frameId: string
  /** The current model's record. */
  current: InspectionResult
  candidate: DetectionRecord[]
  /** The latest review: the ground truth. */
  truth: ReviewedDetection[]
}

/** Reviewed frames read for one comparison, newest first. */
export const COMPARISON_LIMIT = 5000

export class CandidateStore {
  constructor(readonly db: Db) {}

  /** False when the frame has no record, or this model version already ran on it. */
  async record(r: CandidateRun): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO candidate_detections (frame_id, model, version, line, captured_at, verdict, detections, agrees, at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM results WHERE frame_id = $1)
       ON CONFLICT (frame_id, model, version) DO NOTHING`,
      [r.frameId, r.model, r.version, r.line, r.capturedAt, r.verdict, JSON.stringify(r.detections), r.agrees ? 1 : 0, Date.now()],
    )
    return n > 0
  }

  /** Frames the candidate ran on and how many agreed with the current model. */
  async agreement(line: string, model: string): Promise<{ version: string; frames: number; agreeing: number }[]> {
    const rows = await this.db.all<{ version: string; frames: number; agreeing: number }>(
      'SELECT version, COUNT(*) AS frames, SUM(agrees) AS agreeing FROM candidate_detections WHERE line = $1 AND model = $2 GROUP BY version ORDER BY version',
      [line, model],
    )
    return rows.map((r) => ({ version: r.version, frames: Number(r.frames), agreeing: Number(r.agreeing ?? 0) }))
  }

  /** The latest frames the candidate ran on, with the current model's record of each. */
  async recent(line: string, model: string, limit = COMPARISON_LIMIT): Promise<{ current: InspectionResult; candidate: DetectionRecord[] }[]> {
    const rows = await this.db.all<{ doc: string; candidate: string }>(
      `SELECT r.doc, c.detections AS candidate FROM candidate_detections c JOIN results r ON r.frame_id = c.frame_id
       WHERE c.line = $1 AND c.model = $2 ORDER BY c.captured_at DESC, c.frame_id DESC LIMIT $3`,
      [line, model, limit],
    )
    return rows.map((r) => ({ current: JSON.parse(r.doc) as InspectionResult, candidate: JSON.parse(r.candidate) as DetectionRecord[] }))
  }

  /** Frames both models saw that a person reviewed, with the latest review of each. */
  async reviewed(line: string, model: string): Promise<ReviewedComparison[]> {
    const rows = await this.db.all<{ frame_id: string; doc: string; candidate: string; truth: string }>(
      `SELECT c.frame_id, r.doc, c.detections AS candidate, v.detections AS truth
       FROM candidate_detections c
       JOIN results r ON r.frame_id = c.frame_id
       JOIN reviews v ON v.id = (SELECT MAX(id) FROM reviews x WHERE x.frame_id = c.frame_id)
       WHERE c.line = $1 AND c.model = $2
       ORDER BY c.captured_at DESC, c.frame_id DESC LIMIT ${COMPARISON_LIMIT}`,
      [line, model],
    )
    return rows.map((r) => ({
      frameId: r.frame_id,
      current: JSON.parse(r.doc) as InspectionResult,
      candidate: JSON.parse(r.candidate) as DetectionRecord[],
      truth: JSON.parse(r.truth) as ReviewedDetection[],
    }))
  }
}
