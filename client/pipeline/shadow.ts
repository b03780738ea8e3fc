/**
 * Shadow checks: a sample of frames goes to the server as usual and is also inferred here. When
 * the server's result arrives the two sets of detections are matched (same class, IoU >= 0.5, the
 * shared `matchDetections`) and the station reports how many did not pair up, which the server
 * counts per browser backend (`linesight_shadow_disagreements_total`).
 */
import type { Detection } from '../../shared/domain/detection.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { matchDetections } from '../../shared/inference/match.ts'
import type { ShadowMessage } from '../../shared/protocol/messages/shadow.ts'

export const SHADOW_IOU = 0.5

interface Pending {
  detections: Detection[]
  ep: string
  at: number
}

export class ShadowBook {
  readonly #pending = new Map<string, Pending>()

  expect(frameId: string, detections: Detection[], ep: string, now: number): void {
    this.#pending.set(frameId, { detections, ep, at: now })
  }

  /** The comparison for a server result, if that frame was shadowed. */
  resolve(result: InspectionResult): ShadowMessage | null {
    const p = this.#pending.get(result.frameId)
    if (!p) return null
    this.#pending.delete(result.frameId)
    // a frame the server could not infer has nothing to compare with
    if (result.error) return null
    const m = matchDetections(p.detections, result.detections, SHADOW_IOU)
    return { type: 'shadow', frameId: result.frameId, ep: p.ep, matched: m.matched, unmatched: m.onlyA + m.onlyB }
  }

  forget(frameId: string): void {
    this.#pending.delete(frameId)
  }

  /** Drops frames whose server result never came. */
  expire(now: number, maxAgeMs: number): void {
    for (const [id, p] of this.#pending) if (now - p.at > maxAgeMs) this.#pending.delete(id)
  }

  get size(): number {
    return this.#pending.size
  }
}
