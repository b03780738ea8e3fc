/**
 * A station's region of interest over HTTP against a real linesight process: a defect centred
 * outside the ROI is ignored (the frame passes), inside it counts (the frame fails), another station
 * of the line is untouched, and a bad ROI is refused on PUT naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

let server: RunningServer
const dent = loadSamples().find((s) => s.case === 'dent')!
// the dent sample's defects are centred at x 0.58 and 0.75 of the frame (models/samples/samples.json)
const defectCentres = dent.boxes.filter((b) => b.class !== 'part').map((b) => [(b.box[0] + b.box[2]) / 2 / dent.width, (b.box[1] + b.box[3]) / 2 / dent.height])

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.stop()
})

const inspection = (stations: object) => ({ mode: 'continuous', rule: 'any', burstFrames: 3, presenceFrames: 3, holdFailures: true, stations })
const put = (line: string, body: object) => server.admin(`/api/v1/lines/${line}/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
async function detect(line: string, station: string): Promise<InspectionResult> {
  const res = await server.admin(`/api/v1/detect?line=${line}&station=${station}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: dent.bytes as BodyInit })
  expect(res.status).toBe(200)
  return (await res.json()) as InspectionResult
}

describe('region of interest per station', () => {
  it('the sample has its defects right of x 0.5, so a left-half ROI excludes them all', () => {
    expect(defectCentres.length).toBeGreaterThan(0)
    for (const [x] of defectCentres) expect(x).toBeGreaterThan(0.5)
  })

  it('ignores a defect centred outside the ROI (pass) and counts one inside (fail), on the server', async () => {
    const line = 'ROI1'
    expect((await put(line, { inspection: inspection({ OUT: { roi: [[0, 0, 0.45, 1]] }, IN: { roi: [[0.5, 0.4, 0.95, 0.95]] } }) })).status).toBe(200)

    const outside = await detect(line, 'OUT')
    expect(outside.verdict).toBe('pass')
    expect(outside.detections.filter((d) => d.class === 'dent')).toEqual([])
    // every detection kept has its centre inside the ROI
    for (const d of outside.detections) expect((d.box[0] + d.box[2]) / 2 / dent.width).toBeLessThanOrEqual(0.45)

    const inside = await detect(line, 'IN')
    expect(inside.verdict).toBe('fail')
    expect(inside.detections.filter((d) => d.class === 'dent').length).toBeGreaterThan(0)

    // a station without an ROI sees the whole frame
    expect((await detect(line, 'OTHER')).verdict).toBe('fail')
    // the stored record is the filtered one
    const stored = (await (await server.admin(`/api/v1/results/${outside.frameId}`)).json()) as InspectionResult
    expect(stored.verdict).toBe('pass')
  })

  it.each([
    ['a coordinate outside 0..1', [[0, 0, 1.5, 1]]],
    ['an inverted rectangle', [[0.6, 0, 0.2, 1]]],
    ['an empty list', []],
    ['more than 8 rectangles', Array.from({ length: 9 }, () => [0, 0, 1, 1])],
    ['a rectangle of three numbers', [[0, 0, 1]]],
  ])('refuses %s on PUT with the field named', async (_name, roi) => {
    const res = await put('ROI2', { inspection: inspection({ S1: { roi } }) })
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid_settings')
    expect(body.error.message).toContain('inspection.stations.S1.roi')
    // nothing was saved
    const now = (await (await server.admin('/api/v1/lines/ROI2/settings')).json()) as { inspection?: unknown }
    expect(now.inspection).toBeUndefined()
  })
})
