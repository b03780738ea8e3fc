import { describe, expect, it } from 'vitest'
import type { CandidateReport } from './api.ts'
import { median, pickFastest, timeModel } from './timing.ts'

describe('measured backend choice', () => {
  it('picks the backend with the lowest prefilter + detector time, whatever the preference order', () => {
    const candidates: CandidateReport[] = [
      { ep: 'webgpu', ok: true, prefilterMs: 300, detectorMs: 4200 },
      { ep: 'wasm', ok: true, prefilterMs: 2, detectorMs: 35 },
    ]
    expect(pickFastest(candidates)?.ep).toBe('wasm')
    expect(pickFastest([{ ...candidates[0]!, detectorMs: 5, prefilterMs: 1 }, candidates[1]!])?.ep).toBe('webgpu')
  })

  it('never picks a backend that failed, and says so by picking none when all failed', () => {
    const failed: CandidateReport = { ep: 'webgpu', ok: false, error: 'navigator.gpu missing' }
    expect(pickFastest([failed, { ep: 'wasm', ok: true, detectorMs: 50 }])?.ep).toBe('wasm')
    expect(pickFastest([failed, { ep: 'wasm', ok: false, error: 'detector session: out of memory' }])).toBeNull()
  })

  it('prefers the earlier candidate on a tie', () => {
    expect(pickFastest([{ ep: 'webgpu', ok: true, detectorMs: 10 }, { ep: 'wasm', ok: true, detectorMs: 10 }])?.ep).toBe('webgpu')
  })

  it('takes the median of the timed runs, not counting the warm-up', async () => {
    const times = [900, 12, 10, 30, 11]
    const r = await timeModel(async () => times.shift()!, { runs: 4, budgetMs: 1e9 })
    expect(r).toEqual({ ms: 11.5, runs: 4, warmupMs: 900 })
    expect(median([3, 1, 2])).toBe(2)
  })

  it('stops timing a slow backend at the budget, after at least one timed run', async () => {
    let clock = 0
    const slow = async () => {
      clock += 3000
      return 3000
    }
    expect(await timeModel(slow, { runs: 5, budgetMs: 4000 }, () => clock)).toEqual({ ms: 3000, runs: 2, warmupMs: 3000 })
    expect(await timeModel(slow, { runs: 5, budgetMs: 0 }, () => clock)).toEqual({ ms: 3000, runs: 1, warmupMs: 3000 })
  })
})
