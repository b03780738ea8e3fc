/**
 * Skipped frames, counted by reason between two `skips` reports. A station at 30 frames/s that
 * skips most of them would otherwise send a message per frame; one report a second is enough for
 * the server's `linesight_frames_skipped_total`. Counts that could not be sent (socket down) are
 * kept for the next report, never lost and never counted twice.
 */
import { SKIP_REASONS, type SkipReason, type SkipsMessage } from '../../shared/protocol/messages/skips.ts'

/** The `skips` message caps each count; a longer outage sends the rest in the next reports. */
const MAX_PER_REPORT = 1_000_000

export type SkipCounts = Record<SkipReason, number>

export function zeroSkips(): SkipCounts {
  return { unchanged: 0, blur: 0, exposure: 0, empty: 0 }
}

export class SkipTally {
  readonly #pending = zeroSkips()
  /** Since the station started, for the view. */
  readonly total = zeroSkips()

  add(reason: SkipReason): void {
    this.#pending[reason]++
    this.total[reason]++
  }

  /**
   * Hands the counts to `send` as one report, if there are any; what `send` refuses (returns false)
   * stays pending.
   */
  flush(send: (counts: SkipsMessage['counts']) => boolean): boolean {
    const counts: SkipsMessage['counts'] = {}
    for (const r of SKIP_REASONS) if (this.#pending[r] > 0) counts[r] = Math.min(MAX_PER_REPORT, this.#pending[r])
    if (Object.keys(counts).length === 0) return false
    if (!send(counts)) return false
    for (const r of SKIP_REASONS) this.#pending[r] -= counts[r] ?? 0
    return true
  }

  get pending(): Readonly<SkipCounts> {
    return this.#pending
  }
}
