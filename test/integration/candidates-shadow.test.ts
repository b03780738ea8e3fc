/**
 * A candidate model in shadow against a real linesight process under load: it runs only on
 * spare capacity (every offered frame is either inferred or counted as skipped), its
 * disagreements are counted and queued for review, it is measured on reviewed frames, and
 * promotion switches the line while frames keep arriving, with no frame lost or recorded twice;
 * rollback goes back in one call. The candidate is the default detector's file under another
 * name with no defect classes, so it disagrees on every failing frame by construction.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { ReviewQueueItem } from '../../shared/domain/review.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { metricValue, uniqueId } from '../helpers/browser.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const samples = loadSamples()
const line = uniqueId('CAND')
let server: RunningServer
let models: string

beforeAll(async () => {
  models = await mkdtemp(join(tmpdir(), 'linesight-cand-models-'))
  for (const dir of ['detector', 'prefilter', 'samples']) await cp(join(ROOT, 'models', dir), join(models, dir), { recursive: true })
  await mkdir(join(models, 'candidate'))
  await cp(join(ROOT, 'models/detector/detector.onnx'), join(models, 'candidate/detector.onnx'))
  const manifest = JSON.parse(await readFile(join(ROOT, 'models/detector/manifest.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(models, 'candidate/manifest.json'), JSON.stringify({ ...manifest, name: 'candidate', version: '0.2.0', defectClasses: [] }))
  server = await startServer({ env: { LINESIGHT_MODELS_DIR: models, HTTPS_ENABLED: 'false', MODELS_WATCH: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1', CANDIDATE_MAX_IN_FLIGHT: '1' } })
}, 120_000)
afterAll(async () => {
  await server?.stop()
  if (models) await rm(models, { recursive: true, force: true })
})

const json = (method: string, path: string, body?: unknown) =>
  server.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })

async function detect(i: number): Promise<InspectionResult> {
  const res = await server.admin(`/api/v1/detect?line=${line}&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(samples[i % samples.length]!.bytes) })
  expect(res.status).toBe(200)
  return (await res.json()) as InspectionResult
}

/** `n` frames, `concurrency` at a time. */
async function burst(n: number, concurrency: number, from = 0): Promise<InspectionResult[]> {
  const out: InspectionResult[] = []
  let next = from
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < from + n) out.push(await detect(next++))
  }))
  return out
}

const metrics = async () => (await (await server.admin('/metrics')).text())

describe('candidate model in shadow', () => {
  it('refuses a candidate it cannot compare and one it does not know', async () => {
    expect((await json('PUT', `/api/v1/admin/lines/${line}/candidate`, { model: 'nope', share: 1 })).status).toBe(422)
    expect((await json('PUT', `/api/v1/admin/lines/${line}/candidate`, { model: 'detector', share: 1 })).status).toBe(409)
    expect((await json('PUT', `/api/v1/admin/lines/${line}/candidate`, { model: 'candidate', share: 0 })).status).toBe(400)
    expect((await json('POST', `/api/v1/admin/lines/${line}/candidate/promote`)).status).toBe(404)
  })

  it('runs on spare capacity only, counts every offered frame and its disagreements, and queues them for review', async () => {
    expect((await json('PUT', `/api/v1/admin/lines/${line}/candidate`, { model: 'candidate', share: 1 })).status).toBe(200)
    const loaded = await burst(24, 6)
    // then a quiet spell: one frame at a time leaves the engine idle between frames
    const quiet = await burst(6, 1, 24)
    const offered = loaded.length + quiet.length
    const text = await waitFor(
      async () => {
        const t = await metrics()
        const counted = ['inferred', 'skipped_busy', 'failed'].reduce((s, o) => s + metricValue(t, 'linesight_candidate_frames_total', { line, outcome: o }), 0)
        return counted === offered ? t : undefined
      },
      { timeoutMs: 60_000, what: 'every offered frame counted' },
    )
    const inferred = metricValue(text, 'linesight_candidate_frames_total', { line, outcome: 'inferred' })
    expect(inferred).toBeGreaterThan(0)
    expect(metricValue(text, 'linesight_candidate_frames_total', { line, outcome: 'failed' })).toBe(0)
    const failing = [...loaded, ...quiet].filter((r) => r.verdict === 'fail').length
    expect(failing).toBeGreaterThan(0)
    const disagree = metricValue(text, 'linesight_candidate_agreement_total', { line, result: 'disagree' })
    const agree = metricValue(text, 'linesight_candidate_agreement_total', { line, result: 'agree' })
    expect(disagree + agree).toBe(inferred)
    expect(disagree).toBeGreaterThan(0)
    // the current model decided every verdict
    expect([...loaded, ...quiet].every((r) => r.model.name === 'detector')).toBe(true)
    // and the candidate never ran on a verdict worker (it has workers of its own, CANDIDATE_WORKERS)
    expect(metricValue(text, 'linesight_inference_batch_size_count', { model: 'detector' })).toBeGreaterThan(0)
    expect(metricValue(text, 'linesight_inference_batch_size_count', { model: 'candidate' })).toBe(0)

    const queue = await waitFor(
      async () => {
        const q = (await (await server.admin(`/api/v1/review?line=${line}`)).json()) as { items: ReviewQueueItem[] }
        const c = q.items.filter((i) => i.reasons.includes('candidate'))
        return c.length === disagree ? c : undefined
      },
      { timeoutMs: 30_000, what: 'disagreements in the review queue' },
    )
    // a reviewer confirms one: both models are then measured on it
    const frame = (await (await server.admin(`/api/v1/results/${queue[0]!.frameId}`)).json()) as InspectionResult
    const reviewed = await json('POST', `/api/v1/results/${frame.frameId}/review`, { verdict: frame.verdict, detections: frame.detections.map((d) => ({ class: d.class, box: d.box })) })
    expect(reviewed.status).toBe(201)
    const summary = (await (await server.admin(`/api/v1/admin/lines/${line}/candidate`)).json()) as {
      candidate: { model: string }
      agreement: { frames: number; byClass: { class: string; agreement: number | null }[] }
      reviewed: { frames: number; current: { map50: number | null }; candidate: { map50: number | null } }
    }
    expect(summary.candidate.model).toBe('candidate')
    expect(summary.agreement.frames).toBe(inferred)
    expect(summary.agreement.byClass.map((c) => c.class)).toEqual(['part', 'scratch', 'dent', 'stain', 'crack'])
    expect(summary.reviewed.frames).toBe(1)
    // the same weights find the same boxes: on the reviewed frame the two score alike
    expect(summary.reviewed.candidate.map50).toBe(summary.reviewed.current.map50)
    expect(summary.reviewed.current.map50).toBeGreaterThan(0.9)
  }, 300_000)

  it('promotes while frames arrive with none lost or recorded twice, and rolls back in one call', async () => {
    const sending = burst(20, 4, 100)
    await waitFor(async () => ((await (await server.admin(`/api/v1/results?line=${line}&limit=1000`)).json()) as { items: unknown[] }).items.length >= 35, { timeoutMs: 60_000, what: 'frames flowing' })
    const promoted = await json('POST', `/api/v1/admin/lines/${line}/candidate/promote`)
    expect(promoted.status).toBe(200)
    const afterPromote = (await promoted.json()) as LineSettings
    expect(afterPromote).toMatchObject({ model: 'candidate', previousModel: 'detector' })
    expect(afterPromote.candidate).toBeUndefined()
    const during = await sending
    const after = await burst(3, 1, 200)
    expect(after.every((r) => r.model.name === 'candidate')).toBe(true)

    const sent = [...during, ...after]
    expect(new Set(sent.map((r) => r.frameId)).size).toBe(sent.length)
    for (const r of sent) {
      const stored = (await (await server.admin(`/api/v1/results/${r.frameId}`)).json()) as InspectionResult
      expect(stored.model.name, r.frameId).toBe(r.model.name)
      expect(['detector', 'candidate']).toContain(stored.model.name)
    }

    const back = await json('POST', `/api/v1/admin/lines/${line}/rollback`)
    expect(back.status).toBe(200)
    expect((await back.json()) as LineSettings).toMatchObject({ model: 'detector', previousModel: 'candidate' })
    expect((await burst(1, 1, 300))[0]!.model.name).toBe('detector')
    const audit = (await (await server.admin('/api/v1/admin/audit?limit=100')).json()) as { items: { action: string; target: string }[] }
    expect(audit.items.filter((e) => e.target === line).map((e) => e.action)).toEqual(expect.arrayContaining(['candidate.set', 'candidate.promote', 'model.rollback']))
  }, 300_000)
})
