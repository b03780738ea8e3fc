/**
 * The scaling and status HTTP API on a real process: who may call it, validation, the audit
 * entry of a save, the recorder's minutes showing up in the status history, and a what-if
 * replay of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ScalingDoc, StatusHistory, WhatIfResult } from '../../shared/domain/scaling.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const LINE = `API-${process.pid}`
const json = (value: unknown): RequestInit => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) })

describe('scaling API', () => {
  let server: RunningServer
  let stationToken: string

  beforeAll(async () => {
    server = await startServer({ env: { LOAD_HISTORY_FLUSH_MS: '1000', HTTPS_ENABLED: 'false', MODELS_WATCH: 'false' } })
    const created = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'station', lines: [LINE], label: 'scaling test' }) })
    stationToken = ((await created.json()) as { secret: string }).secret
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('refuses the scaling settings to callers without an admin token', async () => {
    expect((await fetch(`${server.url}/api/v1/admin/scaling`)).status).toBe(401)
    const station = await server.admin(`/api/v1/admin/scaling`, { headers: { authorization: `Bearer ${stationToken}` } })
    expect(station.status).toBe(403)
    const put = await server.admin(`/api/v1/admin/scaling`, { ...json({}), headers: { authorization: `Bearer ${stationToken}`, 'content-type': 'application/json' } })
    expect(put.status).toBe(403)
  })

  it('shows the defaults from the environment, never saved, with scaling off', async () => {
    const doc = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(doc.revision).toBeNull()
    expect(doc.settings.scaleDown.stabilizationWindowSeconds).toBe(300)
    expect(doc.state).toMatchObject({ enabled: false, reason: 'ScalingDisabled' })
  })

  it('refuses invalid settings, naming each problem', async () => {
    const doc = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    const bad = { ...doc.settings, minWorkers: 5, maxWorkers: 2, calendar: { ...doc.settings.calendar, timeZone: 'Nowhere/Atlantis' } }
    const res = await server.admin('/api/v1/admin/scaling', json(bad))
    expect(res.status).toBe(422)
    const err = ((await res.json()) as { error: { code: string; message: string } }).error
    expect(err.code).toBe('invalid_settings')
    expect(err.message).toMatch(/maxWorkers/)
    expect(err.message).toMatch(/calendar\.timeZone/)
  })

  it('saves valid settings, audited with the value before and after, and serves them back', async () => {
    const doc = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    const next = { ...doc.settings, maxWorkers: 7, calendar: { ...doc.settings.calendar, shifts: [{ name: 'early', days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00' }] } }
    const res = await server.admin('/api/v1/admin/scaling', json(next))
    expect(res.status).toBe(200)
    const saved = (await res.json()) as ScalingDoc
    expect(saved.settings.maxWorkers).toBe(7)
    expect(saved.revision).toEqual(expect.any(Number))
    expect(saved.updatedBy).toMatch(/^admin/)
    const again = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    expect(again.settings).toEqual(next)
    const audit = (await (await server.admin('/api/v1/admin/audit?limit=20')).json()) as { items: { action: string; target: string; before?: { maxWorkers: number }; after?: { maxWorkers: number } }[] }
    const entry = audit.items.find((e) => e.target === 'scaling')
    expect(entry).toMatchObject({ action: 'settings.put', after: { maxWorkers: 7 } })
    expect(entry!.before).toBeUndefined()
  })

  it('records real traffic into the status history, per minute and line', async () => {
    const sample = loadSamples()[0]!
    for (let i = 0; i < 6; i++) {
      const res = await server.admin(`/api/v1/detect?line=${LINE}&station=api`, { method: 'POST', headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${stationToken}` }, body: sample.bytes as BodyInit })
      expect(res.status).toBe(200)
    }
    const history = await waitFor(
      async () => {
        const h = (await (await server.admin(`/api/v1/status/history?line=${LINE}`)).json()) as StatusHistory
        const frames = h.points.reduce((s, p) => s + p.framesPerSec * (h.stepMs / 1000), 0)
        return Math.round(frames) >= 6 ? h : null
      },
      { timeoutMs: 20_000, what: 'the recorded frames in the status history' },
    )
    expect(history.lines).toEqual([LINE])
    expect(history.stepMs).toBe(60_000)
    const busy = history.points.filter((p) => p.minutes > 0)
    expect(Math.max(...busy.map((p) => p.workersMax))).toBeGreaterThanOrEqual(1)
    expect(Math.max(...busy.map((p) => p.p95MsMax))).toBeGreaterThan(0)
    // a token for one line may not read all lines at once
    expect((await server.admin(`/api/v1/status/history`, { headers: { authorization: `Bearer ${stationToken}` } })).status).toBe(403)
  })

  it('replays the recorded minutes under candidate settings', async () => {
    const doc = (await (await server.admin('/api/v1/admin/scaling')).json()) as ScalingDoc
    const res = await server.admin('/api/v1/admin/scaling/what-if', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ settings: doc.settings, from: Date.now() - 3_600_000, to: Date.now() + 60_000 }) })
    expect(res.status).toBe(200)
    const r = (await res.json()) as WhatIfResult
    // `to` is rounded down to its minute: one minute ahead takes in the minute under way
    expect(r.points.length).toBeGreaterThanOrEqual(60)
    expect(r.recordedMinutes).toBeGreaterThan(0)
    const withFrames = r.points.filter((p) => p.demandFps > 0)
    expect(withFrames.length).toBeGreaterThan(0)
    expect(withFrames.every((p) => p.actual !== null)).toBe(true)
    const bad = await server.admin('/api/v1/admin/scaling/what-if', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ settings: { ...doc.settings, maxWorkers: 0 } }) })
    expect(bad.status).toBe(422)
  })
})
