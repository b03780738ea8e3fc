/**
 * A measurement window: warm up, then count what completes during `seconds`. Bounds are epoch
 * ms (Date.now()) so threads and processes agree on them; durations use performance.now().
 */
export interface Window {
  warmupMs: number
  seconds: number
}

export function windowFromNow(w: Window): { startAt: number; endAt: number } {
  const startAt = Date.now() + w.warmupMs
  return { startAt, endAt: startAt + w.seconds * 1000 }
}

export const inWindow = (t: number, win: { startAt: number; endAt: number }): boolean => t >= win.startAt && t <= win.endAt
