import { describe, expect, it } from 'vitest'
import type { ShiftCalendar } from '../../shared/domain/scaling.ts'
import { Forecaster } from './forecast.ts'
import { MINUTE_MS, type MinuteSeries } from './series.ts'
import { rng, syntheticPlant } from './synthetic-plant.ts'

const MONDAY = Date.UTC(2025, 0, 6)
const DAY = 1440

/** A line that runs 08:00-16:00 on weekdays at `perMinute` frames (x `scale(day)`), with noise. */
function weekdayShift(weeks: number, perMinute: number, opts: { start?: number; scale?: (day: number) => number; noise?: number; seed?: number } = {}): MinuteSeries {
  const start = opts.start ?? MONDAY
  const length = weeks * 7 * DAY
  const values = new Float64Array(length)
  const r = rng(opts.seed ?? 7)
  for (let i = 0; i < length; i++) {
    const d = new Date(start + i * MINUTE_MS)
    const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5
    const h = d.getUTCHours()
    const noise = 1 + (r() * 2 - 1) * (opts.noise ?? 0)
    if (weekday && h >= 8 && h < 16) values[i] = perMinute * (opts.scale?.(Math.floor(i / DAY)) ?? 1) * noise
  }
  return { start, length, lines: new Map([['L1', values]]), total: values, recorded: new Uint8Array(length).fill(1) }
}

const at = (s: MinuteSeries, slot: number) => s.start + slot * MINUTE_MS
/** Slot of day `day` (0 = the series' first), at hh:mm UTC. */
const slotOf = (day: number, hh: number, mm = 0) => day * DAY + hh * 60 + mm

describe('forecast', () => {
  it('predicts a weekly shift pattern from the weeks before', () => {
    const s = weekdayShift(4, 600, { noise: 0.05 })
    const f = new Forecaster(s)
    // Wednesday of week 4, 10:00, forecast 5 minutes ahead
    const slot = slotOf(23, 10)
    expect(f.expectedFps(at(s, slot), at(s, slot - 5))).toBeCloseTo(10, 0)
    // 03:00 that night: nothing
    expect(f.expectedFps(at(s, slotOf(23, 3)), at(s, slotOf(23, 2)))).toBe(0)
  })

  it('scales the rest of a day by how busy it has been so far', () => {
    // the last week runs 20 % busier than the three before
    const s = weekdayShift(4, 600, { scale: (day) => (day >= 21 ? 1.2 : 1) })
    const f = new Forecaster(s)
    const slot = slotOf(23, 12)
    // yesterday (also busy) pulls it up too; the level factor brings it to the new level
    expect(f.expectedFps(at(s, slot), at(s, slot - 5))).toBeCloseTo(12, 0)
    const flat = new Forecaster(s, { levelMinutes: 0 })
    expect(flat.expectedFps(at(s, slot), at(s, slot - 5))).toBeLessThan(11.5)
  })

  it('does not take a Sunday as the model for a Monday', () => {
    // starts on a Sunday: on Monday morning there is no past Monday and yesterday was Sunday
    const s = weekdayShift(1, 600, { start: MONDAY - DAY * MINUTE_MS })
    const f = new Forecaster(s)
    const monday10 = slotOf(1, 10)
    // no seasonal data: the recent 15 minutes (Monday 09:45-10:00, busy) stand in
    expect(f.expectedFps(at(s, monday10), at(s, monday10))).toBeCloseTo(10, 5)
    // Tuesday 10:00 has Monday as yesterday: the same kind of day
    expect(f.expectedFps(at(s, slotOf(2, 10)), at(s, slotOf(2, 7)))).toBeCloseTo(10, 5)
  })

  it('never reads data from after the moment the forecast is made', () => {
    const s = weekdayShift(3, 600)
    const slot = slotOf(16, 12) // Tuesday of week 3
    const before = new Forecaster(s).expectedFps(at(s, slot), at(s, slot - 30))
    // wipe everything from the forecast moment on: the forecast must not change
    const cut: MinuteSeries = { ...s, total: s.total.slice(), lines: new Map([['L1', s.total.slice()]]) }
    cut.lines.get('L1')!.fill(0, slot - 30)
    cut.total.fill(0, slot - 30)
    expect(new Forecaster(cut).expectedFps(at(cut, slot), at(cut, slot - 30))).toBe(before)
  })

  it('pre-warms for a burst at a shift start that the calendar announces', () => {
    const calendar: ShiftCalendar = { timeZone: 'UTC', burstMinutes: 10, shifts: [{ name: 'day', days: [1, 2, 3, 4, 5], start: '08:00', end: '16:00' }], breaks: [] }
    // bursts of 3x at 08:00-08:10 in the history
    const s = weekdayShift(2, 600)
    for (let i = 0; i < s.length; i++) {
      const d = new Date(at(s, i))
      if (s.total[i]! > 0 && d.getUTCHours() === 8 && d.getUTCMinutes() < 10) s.total[i] = 1800
    }
    s.lines.set('L1', s.total)
    const f = new Forecaster(s, { calendar })
    const before = at(s, slotOf(10, 7, 55)) // Thursday of week 2, 07:55
    expect(f.peakFps(before, 3)).toBe(0)
    expect(f.peakFps(before, 6)).toBeCloseTo(30, 0)
  })

  it('falls back to the level the calendar learned when the history has no seasonal data yet', () => {
    const calendar: ShiftCalendar = { timeZone: 'UTC', burstMinutes: 0, shifts: [{ name: 'day', days: [1, 2, 3, 4, 5], start: '08:00', end: '16:00' }], breaks: [{ days: [1, 2, 3, 4, 5], start: '12:00', end: '12:30' }] }
    const s = weekdayShift(1, 600)
    for (let i = 0; i < s.length; i++) {
      const d = new Date(at(s, i))
      if (d.getUTCHours() === 12 && d.getUTCMinutes() < 30 && s.total[i]! > 0) s.total[i] = 60
    }
    // only Monday's history is used to learn; Monday has no Monday before it
    const f = new Forecaster({ ...s, lines: new Map([['L1', s.total]]) }, { calendar, trainUntil: DAY, weeks: 0 })
    const mondayBreak = slotOf(0, 12, 10)
    expect(f.expectedFps(at(s, mondayBreak), at(s, mondayBreak - 240))).toBeCloseTo(1, 5)
  })

  it('stays near the noise level on a noisy seasonal plant (MAPE)', () => {
    const plant = syntheticPlant({ seed: 3, weeks: 5 })
    const f = new Forecaster(plant)
    const from = plant.length - 7 * DAY
    let err = 0
    let n = 0
    for (let slot = from; slot < plant.length; slot++) {
      const actual = plant.total[slot]! / 60
      if (actual < 1) continue
      err += Math.abs(f.expectedFps(at(plant, slot), at(plant, slot - 3)) - actual) / actual
      n++
    }
    // the plant's per-minute noise alone (8 %) puts the floor near 6 %
    expect(err / n).toBeLessThan(0.16)
    expect(n).toBeGreaterThan(4000)
  })
})
