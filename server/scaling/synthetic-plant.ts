/**
 * A generated plant for the backtest when too little load is recorded: deterministic by seed,
 * minute by minute, per line, with what makes a real plant hard to scale for:
 *  - three shifts on weekdays: early 06-14 (full), late 14-22 (90 %), night 22-06 with a
 *    skeleton crew on L1 only (35 % of L1) that stops at 02:00: the rest of the night is empty;
 *  - every shift starts with a 10-minute burst (x1.8: the parts that queued at the handover)
 *    after a 5-minute wind-down of the shift before (x0.5);
 *  - breaks: two 10-minute breaks (x0.3) and a 30-minute meal break (x0.1) per shift;
 *  - Saturday: the early shift only, at 60 %; Sunday: nothing;
 *  - noise: +-8 % per minute, +-4 % per day, and now and then a line stoppage (5-20 min at 0).
 * The calendar that describes it comes along, so the backtest can also score the calendar.
 */
import type { ShiftCalendar } from '../../shared/domain/scaling.ts'
import { MINUTE_MS, type MinuteSeries } from './series.ts'
import { mulberry32 } from '../../shared/random.ts'

export interface PlantLine {
  line: string
  /** Frames/s at full production. */
  fps: number
}

export interface PlantOptions {
  seed: number
  weeks: number
  /** ms of the first minute; a Monday 00:00 UTC reads best. @default 2025-01-06T00:00Z */
  start?: number
  lines?: PlantLine[]
}

export const DEFAULT_LINES: PlantLine[] = [
  { line: 'L1', fps: 12 },
  { line: 'L2', fps: 10 },
  { line: 'L3', fps: 8 },
]
export const DEFAULT_START = Date.UTC(2025, 0, 6)

const WEEKDAYS = [1, 2, 3, 4, 5]
const BURST_MINUTES = 10
const WIND_DOWN_MINUTES = 5

/** The plant's calendar (UTC), as an administrator would enter it. */
export const PLANT_CALENDAR: ShiftCalendar = {
  timeZone: 'UTC',
  burstMinutes: BURST_MINUTES,
  shifts: [
    { name: 'early', days: [...WEEKDAYS, 6], start: '06:00', end: '14:00' },
    { name: 'late', days: WEEKDAYS, start: '14:00', end: '22:00' },
    { name: 'night', days: WEEKDAYS, start: '22:00', end: '02:00' },
  ],
  breaks: [
    { days: [...WEEKDAYS, 6], start: '08:00', end: '08:10' },
    { days: [...WEEKDAYS, 6], start: '10:00', end: '10:30' },
    { days: [...WEEKDAYS, 6], start: '12:00', end: '12:10' },
    { days: WEEKDAYS, start: '16:00', end: '16:10' },
    { days: WEEKDAYS, start: '18:00', end: '18:30' },
    { days: WEEKDAYS, start: '20:00', end: '20:10' },
    // the night shift's break falls on the day after its start
    { days: [2, 3, 4, 5, 6], start: '00:00', end: '00:10' },
  ],
}

/** The seeded generator these fixtures draw from (shared/random.ts). */
export const rng = mulberry32

/** Roughly normal noise with standard deviation `sd` (sum of uniforms). */
const gauss = (r: () => number, sd: number) => (r() + r() + r() + r() - 2) * sd * Math.sqrt(3)

interface Slot {
  level: number
  /** Lines that run in this slot; undefined = all. */
  only?: string
}

/** The schedule's level for a minute of the week (UTC), before noise. */
function scheduled(day: number, minute: number): Slot {
  const h = minute / 60
  const inBreak = (start: number, len: number) => minute >= start && minute < start + len
  const shiftShape = (shiftStart: number, shiftLen: number, level: number): number => {
    const since = minute - shiftStart
    if (since < BURST_MINUTES) return level * 1.8
    if (since >= shiftLen - WIND_DOWN_MINUTES) return level * 0.5
    const b = shiftStart
    if (inBreak(b + 120, 10) || inBreak(b + 360, 10)) return level * 0.3
    if (inBreak(b + 240, 30)) return level * 0.1
    return level
  }
  const weekday = day >= 1 && day <= 5
  const yesterdayWeekday = (day + 6) % 7 >= 1 && (day + 6) % 7 <= 5
  if (weekday && h >= 6 && h < 14) return { level: shiftShape(360, 480, 1) }
  if (day === 6 && h >= 6 && h < 14) return { level: shiftShape(360, 480, 0.6) }
  if (weekday && h >= 14 && h < 22) return { level: shiftShape(840, 480, 0.9) }
  if (weekday && h >= 22) return { level: shiftShape(1320, 240, 0.35), only: 'L1' }
  if (yesterdayWeekday && h < 2) return { level: shiftShape(-120, 240, 0.35), only: 'L1' }
  return { level: 0 }
}

export function syntheticPlant(opts: PlantOptions): MinuteSeries & { calendar: ShiftCalendar } {
  const start = opts.start ?? DEFAULT_START
  const lines = opts.lines ?? DEFAULT_LINES
  const length = opts.weeks * 7 * 1440
  const r = rng(opts.seed)
  const series = new Map<string, Float64Array>(lines.map((l) => [l.line, new Float64Array(length)]))
  const total = new Float64Array(length)
  const stoppedUntil = new Map<string, number>()
  let dayLevel = 1
  for (let i = 0; i < length; i++) {
    const date = new Date(start + i * MINUTE_MS)
    const minute = date.getUTCHours() * 60 + date.getUTCMinutes()
    if (minute === 0) dayLevel = 1 + gauss(r, 0.04)
    const slot = scheduled(date.getUTCDay(), minute)
    for (const l of lines) {
      // the random draws happen whatever the schedule says, so a change of schedule in one
      // place does not reshuffle the noise everywhere else
      const noise = 1 + gauss(r, 0.08)
      const stopRoll = r()
      const stopLen = 5 + Math.floor(r() * 16)
      if (slot.level === 0 || (slot.only !== undefined && slot.only !== l.line)) continue
      if ((stoppedUntil.get(l.line) ?? -1) > i) continue
      // about one stoppage per line per 16 hours of production
      if (stopRoll < 1 / 960) {
        stoppedUntil.set(l.line, i + stopLen)
        continue
      }
      const frames = Math.max(0, l.fps * 60 * slot.level * dayLevel * noise)
      series.get(l.line)![i] = frames
      total[i] = total[i]! + frames
    }
  }
  return { start, length, lines: series, total, recorded: new Uint8Array(length).fill(1), calendar: PLANT_CALENDAR }
}
