import { describe, expect, it } from 'vitest'
import type { PrefilterThresholds } from '../../shared/domain/line-settings.ts'
import { decidePrefilter, type PrefilterOutputs } from './decide.ts'

const t: PrefilterThresholds = { change: 0.01, sharpness: 0.005, exposureLow: 0.2, exposureHigh: 0.45, clipped: 0.05, partPresent: 0.4 }
const good: PrefilterOutputs = { change: 0.1, sharpness: 0.01, exposure_mean: 0.3, clipped_dark: 0, clipped_bright: 0, part_present: 0.99 }

describe('prefilter verdict', () => {
  it('lets a sharp, well exposed, changed frame with a part through', () => {
    expect(decidePrefilter(good, t, true)).toEqual({ skip: null })
  })

  it('skips a frame that did not change since the last one sent, without bothering the operator', () => {
    expect(decidePrefilter({ ...good, change: 0.001 }, t, true)).toEqual({ skip: 'unchanged' })
  })

  it('does not call the first frame unchanged: there is nothing to compare it with', () => {
    expect(decidePrefilter({ ...good, change: 0 }, t, false)).toEqual({ skip: null })
  })

  it('asks for light on a dark frame, before calling it blurred', () => {
    expect(decidePrefilter({ ...good, exposure_mean: 0.05, sharpness: 0.0001 }, t, true)).toEqual({ skip: 'exposure', hint: 'dark' })
    expect(decidePrefilter({ ...good, clipped_dark: 0.2 }, t, true)).toEqual({ skip: 'exposure', hint: 'dark' })
  })

  it('says too bright on an overexposed or clipped frame', () => {
    expect(decidePrefilter({ ...good, exposure_mean: 0.7 }, t, true)).toEqual({ skip: 'exposure', hint: 'bright' })
    expect(decidePrefilter({ ...good, clipped_bright: 0.19 }, t, true)).toEqual({ skip: 'exposure', hint: 'bright' })
  })

  it('asks to clean the lens on a blurred frame', () => {
    expect(decidePrefilter({ ...good, sharpness: 0.002 }, t, true)).toEqual({ skip: 'blur', hint: 'blur' })
  })

  it('skips an empty belt silently', () => {
    expect(decidePrefilter({ ...good, part_present: 0.01 }, t, true)).toEqual({ skip: 'empty' })
  })

  it('applies changed thresholds at once', () => {
    const blurred = { ...good, sharpness: 0.004 }
    expect(decidePrefilter(blurred, t, true).skip).toBe('blur')
    expect(decidePrefilter(blurred, { ...t, sharpness: 0.001 }, true).skip).toBe(null)
  })
})
