/**
 * The 2-minute soak (bench/soak/soak.ts, `npm run soak -- --minutes 2`): nothing lost or
 * duplicated, and no unbounded growth. The slope limits are generous on purpose (a 2-minute
 * window on a shared machine is noisy); they catch a leak of a frame's size per frame, not
 * a slow one: the long run in docs/soak.md is for that. No wall-clock assert.
 */
import { describe, expect, it } from 'vitest'
import { runSoak } from '../../bench/soak/soak.ts'

/** MB per minute after warm-up. A frame is ~30-60 kB; 2 fps x 2 stations kept would be ~7 MB/min. */
const SERVER_SLOPE_LIMIT = 40
const PAGE_SLOPE_LIMIT = 20

describe('soak', () => {
  it('records every accepted frame exactly once for 2 minutes, with no unbounded growth', async () => {
    const r = await runSoak({ minutes: 2, sampleSeconds: 5, log: (l) => console.log(l) })
    console.log(JSON.stringify(r))
    expect(r.frames.sent).toBeGreaterThan(0)
    expect(r.frames.lost).toBe(0)
    expect(r.frames.duplicated).toBe(0)
    expect(r.frames.recorded).toBe(r.frames.sent - r.frames.busy - r.frames.rejected)
    if (r.browserStation) {
      expect(r.browserStation.recorded).toBeGreaterThan(0)
      expect(r.browserStation.duplicated).toBe(0)
      expect(r.browserStation.outboxPending).toBe(0)
    }
    expect(r.http.failed).toBe(0)
    for (const [name, m] of Object.entries(r.memory)) {
      const limit = name.startsWith('server') ? SERVER_SLOPE_LIMIT : PAGE_SLOPE_LIMIT
      expect(m.slopeMbPerMin, `${name} grew ${m.slopeMbPerMin} MB/min`).toBeLessThan(limit)
    }
    expect(r.fileDescriptors.slopePerMin).toBeLessThan(30)
  }, 600_000)
})
