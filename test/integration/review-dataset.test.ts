/**
 * The review loop against a real linesight process, on SQLite and on PostgreSQL: a failing frame
 * is flagged, shows in the queue, a reviewer's bad bodies are refused with their reasons, a
 * correction is stored beside the record (never over it), and the YOLO export carries the
 * corrected label at the right normalised coordinates.
 */
import { randomBytes } from 'node:crypto'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Review, ReviewQueueItem } from '../../shared/domain/review.ts'
import { pgSchema, type PgSchema } from '../helpers/pg.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { readZip } from '../helpers/zip.ts'

const databaseUrl = process.env.DATABASE_URL
const scratch = loadSamples().find((s) => s.file === 'scratch.jpg')!
const CLASSES = ['part', 'scratch', 'dent', 'stain', 'crack'] // models/detector/manifest.json
const ENV = { HTTPS_ENABLED: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1', MODELS_WATCH: 'false', GPU_METRICS_INTERVAL_MS: '0', LOAD_HISTORY_FLUSH_MS: '0' }

describe.each([
  ['sqlite', false],
  ['postgres', true],
])('review and export on %s', (_name, postgres) => {
  const skip = postgres && !databaseUrl
  if (skip) console.warn('review-dataset: DATABASE_URL is not set; skipping the PostgreSQL run')
  let server: RunningServer
  let schema: PgSchema | undefined
  const line = `rv-${randomBytes(3).toString('hex')}`
  let frame: InspectionResult

  beforeAll(async () => {
    if (skip) return
    const env: Record<string, string> = { ...ENV }
    if (postgres) {
      schema = await pgSchema(databaseUrl!, 'ls_review')
      env.DATABASE_URL = schema.url
    }
    server = await startServer({ env })
    const res = await server.admin(`/api/v1/detect?line=${line}&station=st-1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(scratch.bytes) })
    expect(res.status).toBe(200)
    frame = (await res.json()) as InspectionResult
    expect(frame.verdict).toBe('fail')
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
    await schema?.drop()
  })

  const post = (path: string, body: unknown) => server.admin(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  it.skipIf(skip)('puts a flagged frame in the open queue with who flagged it', async () => {
    const res = await post(`/api/v1/results/${frame.frameId}/flag`, { note: 'the crack is not marked' })
    expect(res.status).toBe(201)
    const queue = (await (await server.admin(`/api/v1/review?line=${line}&status=open`)).json()) as { items: ReviewQueueItem[] }
    const item = queue.items.find((i) => i.frameId === frame.frameId)
    expect(item).toMatchObject({ line, status: 'open', note: 'the crack is not marked' })
    expect(item!.reasons).toContain('flag')
    expect(item!.flaggedBy).toMatch(/^admin:/)
    expect((await post('/api/v1/results/no-such-frame/flag', {})).status).toBe(404)
    expect((await post(`/api/v1/results/${frame.frameId}/flag`, { note: 'x'.repeat(501) })).status).toBe(400)
  })

  it.skipIf(skip)('keeps the backlog gauge equal to the open queue when many frames are flagged at once', async () => {
    const busy = `${line}-many`
    const frames = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await server.admin(`/api/v1/detect?line=${busy}&station=st-1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(scratch.bytes) })
        expect(res.status).toBe(200)
        return (await res.json()) as InspectionResult
      }),
    )
    const flags = await Promise.all(frames.map((f) => post(`/api/v1/results/${f.frameId}/flag`, {})))
    expect(flags.map((r) => r.status)).toEqual(frames.map(() => 201))
    const queue = (await (await server.admin(`/api/v1/review?line=${busy}&status=open`)).json()) as { items: ReviewQueueItem[] }
    expect(queue.items).toHaveLength(6)
    // each flag's reply comes after a backlog refresh that began after its frame was queued
    const metrics = await (await server.admin('/metrics')).text()
    const gauge = metrics.split('\n').find((l) => l.startsWith(`linesight_review_backlog{line="${busy}"}`))
    expect(gauge?.split(' ').pop()).toBe('6')
  })

  it.skipIf(skip)('refuses a review with an unknown class, a box outside the image or a malformed body, saying which', async () => {
    const cases: [unknown, number, string][] = [
      [{ verdict: 'fail', detections: [{ class: 'bubble', box: [1, 1, 5, 5] }] }, 422, 'unknown_class'],
      [{ verdict: 'fail', detections: [{ class: 'crack', box: [600, 400, 641, 420] }] }, 422, 'box_outside_image'],
      [{ verdict: 'fail', detections: [{ class: 'crack', box: [10, 10, 10, 20] }] }, 422, 'empty_box'],
      [{ verdict: 'maybe', detections: [] }, 400, 'invalid_review'],
      [{ verdict: 'pass' }, 400, 'invalid_review'],
    ]
    for (const [body, status, code] of cases) {
      const res = await post(`/api/v1/results/${frame.frameId}/review`, body)
      const err = (await res.json()) as { error: { code: string; message: string } }
      expect([res.status, err.error.code], JSON.stringify(body)).toEqual([status, code])
      expect(err.error.message.length).toBeGreaterThan(10)
    }
    const bad = await server.admin(`/api/v1/results/${frame.frameId}/review`, { method: 'POST', body: '{not json' })
    expect(bad.status).toBe(400)
  })

  it.skipIf(skip)('stores a correction beside the record and exports it as a normalised YOLO label', async () => {
    const crack = scratch.boxes.find((b) => b.class === 'crack')!.box
    const res = await post(`/api/v1/results/${frame.frameId}/review`, { verdict: 'fail', detections: [{ class: 'crack', box: crack }] })
    expect(res.status).toBe(201)
    const review = (await res.json()) as Review
    expect(review).toMatchObject({ frameId: frame.frameId, verdict: 'fail', detections: [{ class: 'crack', classId: 4, box: crack }] })
    expect(review.reviewer).toMatch(/^admin:/)
    // the record is what the model said, untouched (the reply also carried the time to record it)
    const { record: _recordMs, ...storedTimings } = frame.timings
    expect(await (await server.admin(`/api/v1/results/${frame.frameId}`)).json()).toEqual({ ...frame, timings: storedTimings })
    const queue = (await (await server.admin(`/api/v1/review?line=${line}&status=reviewed`)).json()) as { items: ReviewQueueItem[] }
    expect(queue.items.map((i) => i.frameId)).toEqual([frame.frameId])
    const audit = (await (await server.admin('/api/v1/admin/audit')).json()) as { items: { action: string; target: string }[] }
    expect(audit.items.filter((e) => e.target === frame.frameId).map((e) => e.action).sort()).toEqual(['review.add', 'review.flag'])

    const zipRes = await server.admin(`/api/v1/datasets/yolo?line=${line}&from=${frame.capturedAt - 1000}&to=${frame.capturedAt + 1000}`)
    expect(zipRes.status).toBe(200)
    expect(zipRes.headers.get('content-type')).toBe('application/zip')
    const files = await readZip(new Uint8Array(await zipRes.arrayBuffer()))
    const labels = [...files.keys()].filter((k) => k.startsWith('labels/'))
    expect(labels).toHaveLength(1)
    const [, split, name] = labels[0]!.split('/')
    expect(name).toBe(`${frame.frameId}.txt`)
    // the crack at [416.5, 221, 433.5, 257] in a 640x480 image
    const label = files.get(labels[0]!)!.toString()
    expect(label).toMatch(/^4 \S+ \S+ \S+ \S+\n$/)
    const [cx, cy, w, h] = label.trim().split(' ').slice(1).map(Number)
    expect(cx).toBeCloseTo(425 / 640, 5)
    expect(cy).toBeCloseTo(239 / 480, 5)
    expect(w).toBeCloseTo(17 / 640, 5)
    expect(h).toBeCloseTo(36 / 480, 5)
    expect(files.get(`images/${split}/${frame.frameId}.jpg`)!.equals(scratch.bytes)).toBe(true)
    const yaml = parse(files.get('data.yaml')!.toString()) as { names: string[]; nc: number; train: string; val: string }
    expect(yaml).toMatchObject({ names: CLASSES, nc: 5, train: 'images/train', val: 'images/val' })
    expect(JSON.parse(files.get('linesight.json')!.toString())).toMatchObject({ line, skipped: [] })

    const outside = await readZip(new Uint8Array(await (await server.admin(`/api/v1/datasets/yolo?line=${line}&from=${frame.capturedAt + 1000}`)).arrayBuffer()))
    expect([...outside.keys()].filter((k) => k.startsWith('labels/'))).toEqual([])
    expect((await server.admin('/api/v1/datasets/yolo')).status).toBe(400)
    expect((await fetch(`${server.url}/api/v1/datasets/yolo?line=${line}`)).status).toBe(401)
  })
})
