/**
 * The arithmetic of the small SVG line charts: linear scales, round tick values, and paths that
 * break where data is missing (a gap in the record must not be drawn as a straight line).
 */

export interface Domain {
  min: number
  max: number
}

/** Maps [d.min, d.max] onto [r0, r1]; a flat domain maps to the middle. */
export function linear(d: Domain, r0: number, r1: number): (v: number) => number {
  const span = d.max - d.min
  if (!(span > 0)) return () => (r0 + r1) / 2
  return (v) => r0 + ((v - d.min) / span) * (r1 - r0)
}

/** About `count` round ticks (1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number((Math.round(v / step) * step).toPrecision(12)))
  return out
}

/** The y domain of the values: from 0 (counts and rates are never negative) to a round top. */
export function yDomain(values: Iterable<number | null>): Domain {
  let max = 0
  for (const v of values) if (v !== null && Number.isFinite(v) && v > max) max = v
  if (max === 0) return { min: 0, max: 1 }
  const ticks = niceTicks(0, max)
  const last = ticks[ticks.length - 1]!
  return { min: 0, max: last >= max ? last : last + (ticks[1]! - ticks[0]!) }
}

export type Point = readonly [x: number, y: number | null]

export interface ChartSeries {
  key: string
  label: string
  /** Any CSS colour, e.g. `var(--accent)`. */
  color: string
  points: readonly Point[]
  dashed?: boolean
  /** Hold each value until the next point (counts that change in steps). */
  step?: boolean
}

/**
 * An SVG path `d` through the points; a null y ends the segment, so gaps stay gaps. With `step`
 * the line holds each value until the next point (worker counts change in steps).
 */
export function linePath(points: readonly Point[], x: (v: number) => number, y: (v: number) => number, step = false): string {
  let d = ''
  let open = false
  for (const [px, py] of points) {
    if (py === null || !Number.isFinite(py)) {
      open = false
      continue
    }
    const X = round(x(px))
    const Y = round(y(py))
    if (!open) d += `M${X},${Y}`
    else if (step) d += `H${X}V${Y}`
    else d += `L${X},${Y}`
    open = true
  }
  return d
}

const round = (v: number) => Math.round(v * 10) / 10

const TIME_STEPS_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880]

/** Time ticks on round minutes/hours/days (in the viewer's time zone), at most about `count`. */
export function timeTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min]
  const minutes = (max - min) / 60_000 / count
  const step = (TIME_STEPS_MINUTES.find((s) => s >= minutes) ?? TIME_STEPS_MINUTES[TIME_STEPS_MINUTES.length - 1]!) * 60_000
  // round in local time, so "every 6 h" lands on 00:00, 06:00, ... where the viewer is
  const offset = new Date(min).getTimezoneOffset() * 60_000
  const out: number[] = []
  for (let t = Math.ceil((min - offset) / step) * step + offset; t <= max; t += step) out.push(t)
  return out
}
