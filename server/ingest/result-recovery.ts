/**
 * The timer behind result recovery (see `StationDeps.recovery` in station-session.ts): every
 * station session looks up its overdue frames in the store, one pass at a time.
 */
import type { Logger } from '../log.ts'
import type { StationSession } from './station-session.ts'

/** Returns the stop. */
export function startResultRecovery(stations: Iterable<Pick<StationSession, 'recoverOverdue' | 'line'>>, afterMs: number, log: Logger): () => void {
  const timer = setInterval(() => {
    for (const st of stations) {
      st.recoverOverdue().then(
        (count) => count > 0 && log.info({ count, line: st.line }, 'results recovered from the store'),
        (err: unknown) => log.warn({ err: String(err), line: st.line }, 'looking up overdue results failed; trying again'),
      )
    }
  }, Math.min(1000, afterMs))
  timer.unref()
  return () => clearInterval(timer)
}
