/**
 * The shift calendar as the forecast reads it: which phase of which shift a moment falls in
 * (`off`, the start-up `burst`, plain `shift`, or a `break`), in the plant's own time zone, DST
 * included. Local times are looked up once per hour through Intl and cached, so replaying weeks
 * minute by minute stays cheap.
 */
import type { ShiftCalendar } from '../../shared/domain/scaling.ts'

export type Phase = 'off' | 'burst' | 'shift' | 'break'

export interface CalendarPhase {
  phase: Phase
  /** The shift the moment belongs to; null when off shift. */
  shift: string | null
}

export interface LocalTime {
  /** 0 = Sunday ... 6 = Saturday. */
  day: number
  /** Minutes since local midnight. */
  minute: number
}

const HOUR_MS = 3_600_000
const DAY_MINUTES = 1440
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }
const CACHE_LIMIT = 20_000

/** Wall-clock time in one time zone. */
export class LocalClock {
  readonly #format: Intl.DateTimeFormat
  readonly #hours = new Map<number, LocalTime>()

  constructor(readonly timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' })
  }

  at(ms: number): LocalTime {
    // offsets change only on whole hours in practice, so the hour's start carries the offset
    const hour = Math.floor(ms / HOUR_MS)
    let base = this.#hours.get(hour)
    if (!base) {
      if (this.#hours.size >= CACHE_LIMIT) this.#hours.clear()
      base = this.#lookup(hour * HOUR_MS)
      this.#hours.set(hour, base)
    }
    const minute = base.minute + Math.floor((ms - hour * HOUR_MS) / 60_000)
    return minute >= DAY_MINUTES ? { day: (base.day + 1) % 7, minute: minute - DAY_MINUTES } : { day: base.day, minute }
  }

  #lookup(ms: number): LocalTime {
    let day = 0
    let h = 0
    let m = 0
    for (const p of this.#format.formatToParts(new Date(ms))) {
      if (p.type === 'weekday') day = WEEKDAYS[p.value] ?? 0
      else if (p.type === 'hour') h = Number(p.value)
      else if (p.type === 'minute') m = Number(p.value)
    }
    return { day, minute: h * 60 + m }
  }
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

interface Span {
  days: ReadonlySet<number>
  start: number
  /** Minutes long; an end at or before the start runs into the next day. */
  length: number
  name: string | null
}

function span(days: readonly number[], start: string, end: string, name: string | null): Span {
  const s = minutesOf(start)
  const e = minutesOf(end)
  return { days: new Set(days), start: s, length: e > s ? e - s : e + DAY_MINUTES - s, name }
}

/** Minutes since the span's latest start covering `t`, or -1 when it does not cover `t`. */
function elapsed(sp: Span, t: LocalTime): number {
  if (sp.days.has(t.day) && t.minute >= sp.start && t.minute - sp.start < sp.length) return t.minute - sp.start
  const yesterday = (t.day + 6) % 7
  const since = t.minute + DAY_MINUTES - sp.start
  if (sp.days.has(yesterday) && since < sp.length) return since
  return -1
}

export class CalendarModel {
  readonly clock: LocalClock
  readonly #shifts: Span[]
  readonly #breaks: Span[]
  readonly #burst: number

  constructor(readonly calendar: ShiftCalendar) {
    this.clock = new LocalClock(calendar.timeZone)
    this.#shifts = calendar.shifts.map((s) => span(s.days, s.start, s.end, s.name))
    this.#breaks = calendar.breaks.map((b) => span(b.days, b.start, b.end, null))
    this.#burst = calendar.burstMinutes
  }

  get empty(): boolean {
    return this.#shifts.length === 0 && this.#breaks.length === 0
  }

  phaseAt(ms: number): CalendarPhase {
    const t = this.clock.at(ms)
    // overlapping shifts (a handover): the one that started last is the one bursting
    let shift: string | null = null
    let since = Infinity
    for (const sp of this.#shifts) {
      const e = elapsed(sp, t)
      if (e >= 0 && e < since) {
        since = e
        shift = sp.name
      }
    }
    if (this.#breaks.some((b) => elapsed(b, t) >= 0)) return { phase: 'break', shift }
    if (shift === null) return { phase: 'off', shift: null }
    return { phase: since < this.#burst ? 'burst' : 'shift', shift }
  }
}

/** Weekdays (Mon-Fri) are alike; Saturday and Sunday each only like themselves. */
export function sameKindOfDay(a: number, b: number): boolean {
  const weekday = (d: number) => d >= 1 && d <= 5
  return weekday(a) && weekday(b) ? true : a === b
}
