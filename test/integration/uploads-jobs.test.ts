/**
 * Uploads becoming inspection jobs, against a real linesight process: one image, and the sample
 * images as zip, tar and tar.gz, each finishing with one result per image (the same result a
 * live frame of those bytes gets), readable as JSON and CSV; and live frames overtaking a job.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { RESULT_CSV_HEADER } from '../../server/api/csv.ts'
import { makeTar, makeZip } from '../fixtures/archives.ts'
import { tusUpload, waitForJob } from '../helpers/tus.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const SAMPLES = join(ROOT, 'models/samples')
/** Every file of the samples folder, in a fixed order: 8 JPEGs, their label files and the index. */
const files = readdirSync(SAMPLES)
  .sort()
  .map((name) => ({ name: `samples/${name}`, data: readFileSync(join(SAMPLES, name)) }))
const images = files.filter((f) => f.name.endsWith('.jpg'))
const others = files.filter((f) => !f.name.endsWith('.jpg'))
/** The label file of an image without defects is empty: skipped for that reason, not as a non-image. */
const expectedSkips = Object.fromEntries(
  Object.entries({ not_image: others.filter((f) => f.data.length > 0).length, empty: others.filter((f) => f.data.length === 0).length }).filter(([, n]) => n > 0),
)

/** UPLOAD_BATCH_WINDOW of the server under test. */
const WINDOW = 20

let server: RunningServer
/** What POST /detect answers for each sample: the reference an upload job must match. */
const live = new Map<string, InspectionResult>()

const shape = (r: InspectionResult) => ({ verdict: r.verdict, width: r.width, height: r.height, detections: r.detections.map((d) => [d.class, d.box.map(Math.round)]) })

beforeAll(async () => {
  server = await startServer({ env: { UPLOAD_BATCH_WINDOW: String(WINDOW) } })
  for (const img of images) {
    const res = await server.admin(`/api/v1/detect?line=L1&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: img.data })
    expect(res.status).toBe(200)
    live.set(img.name, (await res.json()) as InspectionResult)
  }
}, 180_000)
afterAll(async () => {
  await server?.stop()
})

async function results(id: string): Promise<InspectionResult[]> {
  const res = await server.admin(`/api/v1/jobs/${id}/results?format=json&limit=1000`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { items: InspectionResult[] }).items
}

describe('upload jobs', () => {
  it('inspects a single uploaded image as a job of one frame', async () => {
    const img = images[0]!
    const id = await tusUpload(server.url, img.data, { line: 'L1', filename: 'crack.jpg', station: 'bench-1' })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', 1, 1, 0])
    expect(job.upload?.archive).toEqual({ kind: 'image', entries: 1, images: 1, skipped: {} })
    const [r] = await results(id)
    expect([r!.frameId, r!.jobId, r!.line, r!.station, r!.source]).toEqual([`${id}-0`, id, 'L1', 'bench-1', 'upload'])
    expect(shape(r!)).toEqual(shape(live.get(img.name)!))
  })

  it.each([
    ['zip', async () => makeZip(files)],
    ['tar', async () => makeTar(files)],
    ['tar.gz', async () => makeTar(files, { gzip: true })],
  ])('inspects every image of a %s of the samples, skips the rest, and gives the results as CSV', async (kind, make) => {
    const id = await tusUpload(server.url, await make(), { line: 'L1', filename: `samples.${kind}` })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', images.length, images.length, 0])
    expect(job.upload?.archive).toEqual({ kind, entries: files.length, images: images.length, skipped: expectedSkips })

    const got = await results(id)
    expect(got).toHaveLength(images.length)
    for (const r of got) {
      const index = Number(r.frameId.slice(id.length + 1))
      const entry = files[index]!
      expect(r.jobId).toBe(id)
      expect({ entry: entry.name, ...shape(r) }).toEqual({ entry: entry.name, ...shape(live.get(entry.name)!) })
    }

    const csv = await server.admin(`/api/v1/jobs/${id}/results?format=csv`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/)
    const [header, ...rows] = (await csv.text()).trimEnd().split('\r\n')
    expect(header).toBe(RESULT_CSV_HEADER.join(','))
    expect(rows).toHaveLength(images.length)
    const jobColumn = RESULT_CSV_HEADER.indexOf('jobId')
    expect(rows.every((row) => row.split(',')[jobColumn] === id)).toBe(true)
    // archive order: the frame ids' entry indexes ascend
    const indexes = rows.map((row) => Number(row.split(',')[0]!.slice(id.length + 1)))
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b))
  })

  it('counts an image that fails on every delivery as failed, and the job still finishes', async () => {
    // a valid header (it passes the upload's checks) over data that ends a third of the way in
    const truncated = images[0]!.data.subarray(0, Math.floor(images[0]!.data.length / 3))
    const id = await tusUpload(server.url, makeZip([{ name: 'good.jpg', data: images[1]!.data }, { name: 'truncated.jpg', data: truncated }]), { line: 'L1' })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', 2, 1, 1])
    // every frame ends with one record: the failed one as an error result that fails the part
    const records = (await results(id)).sort((a, b) => a.frameId.localeCompare(b.frameId))
    expect(records.map((r) => [r.frameId, r.verdict, r.error?.code ?? null])).toEqual([
      [`${id}-0`, expect.any(String), null],
      [`${id}-1`, 'fail', expect.any(String)],
    ])
  })

  it('lists jobs of the line with their progress', async () => {
    const res = await server.admin(`/api/v1/jobs?line=L1`)
    expect(res.status).toBe(200)
    const { items } = (await res.json()) as { items: { id: string; status: string; line: string }[] }
    expect(items.length).toBeGreaterThanOrEqual(5)
    expect(items.every((j) => j.line === 'L1' && j.status === 'done')).toBe(true)
  })

  it('serves a live frame before the frames of a job that wait in the batch queue', async () => {
    const admin = (path: string) => server.admin(path, { method: 'POST' })
    const copies = Array.from({ length: 60 }, (_, i) => ({ name: `copy-${i}.jpg`, data: images[1]!.data }))
    expect((await admin('/api/v1/admin/inference/pause')).status).toBe(200)
    const id = await tusUpload(server.url, makeZip(copies), { line: 'L2' })
    const depth = async (queue: string) => {
      const text = await (await server.admin(`/metrics`)).text()
      return Number(new RegExp(`^linesight_queue_depth\\{queue="${queue}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
    }
    // inference is paused: the job fills the batch queue up to its window and stops there
    await waitFor(async () => (await depth('batch')) >= WINDOW, { what: 'a window of job frames waiting in the batch queue', timeoutMs: 60_000 })
    const detect = server.admin(`/api/v1/detect?line=L1&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: images[2]!.data })
    await waitFor(async () => (await depth('live')) > 0, { what: 'the live frame to wait in the live queue', timeoutMs: 30_000 })
    expect((await admin('/api/v1/admin/inference/resume')).status).toBe(200)
    expect((await detect).status).toBe(200)
    const during = (await (await server.admin(`/api/v1/jobs/${id}`)).json()) as { done: number; total: number }
    expect(during.total).toBe(60)
    // had the batch gone first, the whole window would have been inspected before the live frame
    expect(during.done).toBeLessThan(WINDOW)
    const job = await waitForJob(server.url, id, undefined, 300_000)
    expect([job.status, job.done]).toEqual(['done', 60])
  }, 400_000)
})
