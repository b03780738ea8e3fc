/**
 * How a line's stations decide what a part is: the mode per station, the rule that turns frame
 * verdicts into a part verdict, and what the operator sees. Part of the line settings
 * (`inspection`), absent on lines nobody configured: those inspect `continuous`ly, as before parts.
 */
import { z } from 'zod'
import { Id } from './ids.ts'
import { InspectionMode, PartRule } from './part.ts'
import { RoiSchema, type Roi } from './roi.ts'

export const StationInspectionSchema = z.object({
  mode: InspectionMode.optional(),
  /** The station's failure alarm stays silent (the red NG still shows). */
  muted: z.boolean().optional(),
  /** Region of interest (shared/domain/roi.ts): detections whose box centre lies outside are ignored. */
  roi: RoiSchema.optional(),
})
export type StationInspection = z.infer<typeof StationInspectionSchema>

export const InspectionSettingsSchema = z.object({
  /** The mode of every station not named in `stations`. */
  mode: InspectionMode,
  rule: PartRule,
  /** Frames a trigger captures for one part (its burst). */
  burstFrames: z.number().int().min(1).max(30),
  /** Sharpest frames of a presence passage that are inspected. */
  presenceFrames: z.number().int().min(1).max(30),
  /** A failing part's image stays on the station screen until the operator acknowledges it. */
  holdFailures: z.boolean(),
  stations: z.record(Id, StationInspectionSchema),
})
export type InspectionSettings = z.infer<typeof InspectionSettingsSchema>

export const DEFAULT_INSPECTION: InspectionSettings = Object.freeze({
  mode: 'continuous',
  rule: 'any',
  burstFrames: 3,
  presenceFrames: 3,
  holdFailures: true,
  stations: {},
}) as InspectionSettings

/** What one station does, with the line's defaults filled in. */
export interface StationInspectionView {
  mode: InspectionMode
  rule: PartRule
  burstFrames: number
  presenceFrames: number
  holdFailures: boolean
  muted: boolean
  /** The station's region of interest; undefined: the whole frame. */
  roi: Roi | undefined
}

export function stationInspection(inspection: InspectionSettings | undefined, station: string): StationInspectionView {
  const i = inspection ?? DEFAULT_INSPECTION
  const own = Object.hasOwn(i.stations, station) ? i.stations[station] : undefined
  return {
    mode: own?.mode ?? i.mode,
    rule: i.rule,
    burstFrames: i.burstFrames,
    presenceFrames: i.presenceFrames,
    holdFailures: i.holdFailures,
    muted: own?.muted ?? false,
    roi: own?.roi,
  }
}
