import { describe, expect, it } from 'vitest'
import { ShiftCalendarSchema, type ShiftCalendar } from '../../shared/domain/scaling.ts'
import { CalendarModel, LocalClock } from './calendar.ts'

const plant: ShiftCalendar = {
  timeZone: 'Europe/Berlin',
  burstMinutes: 10,
  shifts: [
    { name: 'early', days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00' },
    { name: 'late', days: [1, 2, 3, 4, 5], start: '14:00', end: '22:00' },
    { name: 'night', days: [1, 2, 3, 4], start: '22:00', end: '06:00' },
  ],
  breaks: [{ days: [1, 2, 3, 4, 5], start: '10:00', end: '10:30' }],
}

describe('shift calendar', () => {
  const cal = new CalendarModel(plant)

  it('reads local time in the plant\'s time zone, summer time included', () => {
    const clock = new LocalClock('Europe/Berlin')
    // winter: UTC+1; summer: UTC+2
    expect(clock.at(Date.parse('2025-01-06T05:00:00Z'))).toEqual({ day: 1, minute: 360 })
    expect(clock.at(Date.parse('2025-07-07T04:00:00Z'))).toEqual({ day: 1, minute: 360 })
    expect(clock.at(Date.parse('2025-07-06T22:30:00Z'))).toEqual({ day: 1, minute: 30 })
  })

  it('marks the first minutes of a shift as its burst, then the shift', () => {
    expect(cal.phaseAt(Date.parse('2025-01-06T05:00:00Z'))).toEqual({ phase: 'burst', shift: 'early' })
    expect(cal.phaseAt(Date.parse('2025-01-06T05:09:00Z'))).toEqual({ phase: 'burst', shift: 'early' })
    expect(cal.phaseAt(Date.parse('2025-01-06T05:10:00Z'))).toEqual({ phase: 'shift', shift: 'early' })
  })

  it('hands over to the shift that just started', () => {
    // 14:00 local: early ends, late starts
    expect(cal.phaseAt(Date.parse('2025-01-06T13:00:00Z'))).toEqual({ phase: 'burst', shift: 'late' })
  })

  it('runs a night shift past midnight into the next day, and not after its last night', () => {
    // Tuesday 03:00 local: the night shift that began Monday 22:00
    expect(cal.phaseAt(Date.parse('2025-01-07T02:00:00Z'))).toEqual({ phase: 'shift', shift: 'night' })
    // Saturday 03:00 local: there is no Friday night shift
    expect(cal.phaseAt(Date.parse('2025-01-11T02:00:00Z'))).toEqual({ phase: 'off', shift: null })
  })

  it('marks breaks inside a shift', () => {
    expect(cal.phaseAt(Date.parse('2025-01-08T09:15:00Z'))).toEqual({ phase: 'break', shift: 'early' })
    expect(cal.phaseAt(Date.parse('2025-01-08T09:30:00Z'))).toEqual({ phase: 'shift', shift: 'early' })
  })

  it('refuses a time zone that does not exist and a time that is not HH:MM', () => {
    expect(ShiftCalendarSchema.safeParse({ ...plant, timeZone: 'Mars/Olympus' }).success).toBe(false)
    expect(ShiftCalendarSchema.safeParse({ ...plant, shifts: [{ name: 'x', days: [1], start: '6:00', end: '14:00' }] }).success).toBe(false)
    expect(ShiftCalendarSchema.safeParse(plant).success).toBe(true)
  })
})
