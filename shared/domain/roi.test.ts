import { describe, expect, it } from 'vitest'
import { LineSettingsSchema } from './line-settings.ts'
import { InspectionSettingsSchema, DEFAULT_INSPECTION, stationInspection } from './inspection.ts'
import { centreInRoi, RoiSchema, ROI_MAX_RECTS, withinRoi, type RoiRect } from './roi.ts'

const det = (cls: string, box: [number, number, number, number]) => ({ classId: 0, class: cls, score: 0.9, box })

describe('region of interest', () => {
  const left: RoiRect[] = [[0, 0, 0.5, 1]]

  it('keeps a detection whose box centre lies inside, drops one whose centre lies outside', () => {
    // 640x480: centre (100, 240) is at x 0.16 (inside the left half), centre (500, 240) at x 0.78
    const kept = withinRoi([det('scratch', [50, 200, 150, 280]), det('dent', [450, 200, 550, 280])], 640, 480, left)
    expect(kept.map((d) => d.class)).toEqual(['scratch'])
  })

  it('decides by the centre, not by overlap: a box reaching into the region but centred outside is dropped', () => {
    // spans x 300..400 (0.47..0.63): overlaps the left half, centre 350 (0.55) is outside
    expect(withinRoi([det('dent', [300, 0, 400, 100])], 640, 480, left)).toEqual([])
  })

  it('counts the edges as inside and any of several rectangles', () => {
    expect(centreInRoi([0, 0, 640, 480], 640, 480, [[0.5, 0.5, 0.9, 0.9]])).toBe(true)
    const two: RoiRect[] = [[0, 0, 0.1, 0.1], [0.8, 0.8, 1, 1]]
    expect(centreInRoi([600, 440, 620, 460], 640, 480, two)).toBe(true)
    expect(centreInRoi([300, 220, 340, 260], 640, 480, two)).toBe(false)
  })

  it('keeps everything without an ROI or without a frame size', () => {
    const ds = [det('dent', [450, 200, 550, 280])]
    expect(withinRoi(ds, 640, 480, undefined)).toEqual(ds)
    expect(withinRoi(ds, undefined, undefined, left)).toEqual(ds)
    expect(withinRoi(ds, 0, 480, left)).toEqual(ds)
  })

  it('rejects rectangles outside 0..1, inverted or degenerate, and more than the limit', () => {
    expect(RoiSchema.safeParse([[0, 0, 1, 1]]).success).toBe(true)
    expect(RoiSchema.safeParse([[0, 0, 1.2, 1]]).success).toBe(false)
    expect(RoiSchema.safeParse([[0.5, 0, 0.2, 1]]).success).toBe(false)
    expect(RoiSchema.safeParse([[0.5, 0.5, 0.5, 0.9]]).success).toBe(false)
    expect(RoiSchema.safeParse([]).success).toBe(false)
    expect(RoiSchema.safeParse(Array.from({ length: ROI_MAX_RECTS }, () => [0, 0, 1, 1])).success).toBe(true)
    expect(RoiSchema.safeParse(Array.from({ length: ROI_MAX_RECTS + 1 }, () => [0, 0, 1, 1])).success).toBe(false)
  })

  it('lives in the station inspection settings and reaches the station view', () => {
    const inspection = { ...DEFAULT_INSPECTION, stations: { S1: { roi: left } } }
    expect(InspectionSettingsSchema.safeParse(inspection).success).toBe(true)
    expect(stationInspection(inspection, 'S1').roi).toEqual(left)
    expect(stationInspection(inspection, 'S2').roi).toBeUndefined()
    const bad = LineSettingsSchema.shape.inspection.safeParse({ ...inspection, stations: { S1: { roi: [[0, 0, 2, 1]] } } })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0]?.path.join('.')).toMatch(/^stations\.S1\.roi\.0/)
  })
})
