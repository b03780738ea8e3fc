/**
 * Part counts of one line for the kiosk and status page (shared/domain/part-counts.ts): the
 * current shift by the plant's shift calendar (the scaling settings' `calendar`), and each of the
 * last hours.
 */
import { partCount, type PartCounts } from '../../shared/domain/part-counts.ts'
import { ShiftCalendarSchema } from '../../shared/domain/scaling.ts'
import { CalendarModel } from '../scaling/calendar.ts'
import { SCALING_KEY } from '../scaling/settings-doc.ts'
import type { PartStore } from '../storage/parts.ts'
import type { SettingsStore } from '../storage/settings-store.ts'

const HOUR_MS = 3_600_000
/** Without a running shift, "current" is this many hours. */
const NO_SHIFT_HOURS = 8
/** A shift's start is found to this precision by stepping back through the calendar. */
const STEP_MS = 60_000

export async function partCounts(
  deps: { parts: Pick<PartStore, 'countsByHour'>; settings: Pick<SettingsStore, 'get'> },
  line: string,
  now: number,
  hours: number,
): Promise<PartCounts> {
  const shift = await currentShift(deps.settings, now)
  const currentFrom = shift?.since ?? now - NO_SHIFT_HOURS * HOUR_MS
  const hourFrom = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS
  const [current, perHour] = await Promise.all([
    deps.parts.countsByHour({ line, from: currentFrom, to: now + 1 }),
    deps.parts.countsByHour({ line, from: hourFrom, to: now + 1 }),
  ])
  const sum = (rows: typeof current) => rows.reduce((a, r) => ({ pass: a.pass + r.pass, fail: a.fail + r.fail }), { pass: 0, fail: 0 })
  const c = sum(current)
  return {
    line,
    shift,
    current: partCount(c.pass, c.fail),
    hours: Array.from({ length: hours }, (_, i) => {
      const hour = hourFrom + i * HOUR_MS
      const h = sum(perHour.filter((r) => r.hour === hour))
      return { hour, ...partCount(h.pass, h.fail) }
    }),
  }
}

async function currentShift(settings: Pick<SettingsStore, 'get'>, now: number): Promise<PartCounts['shift']> {
  const doc = await settings.get(SCALING_KEY)
  const parsed = ShiftCalendarSchema.safeParse((doc?.value as { calendar?: unknown } | undefined)?.calendar)
  if (!parsed.success) return null
  const model = new CalendarModel(parsed.data)
  const name = model.phaseAt(now).shift
  if (name === null) return null
  // back to the first minute of this shift (a break inside it keeps the shift's name)
  let since = Math.floor(now / STEP_MS) * STEP_MS
  for (let i = 0; i < 1440 && model.phaseAt(since - STEP_MS).shift === name; i++) since -= STEP_MS
  return { name, since }
}
