/**
 * One check for a line's candidate model, whichever route puts it there: the line-settings PUT
 * refuses a candidate the candidate route would refuse (unknown, the line's own model, other
 * classes), and a model change that would leave the line with a candidate it cannot be compared
 * to, with the same codes; the line's settings are left as they were.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { uniqueId } from '../helpers/browser.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'

let server: RunningServer
let models: string

/** The default detector's file under another name, with `classes` in its manifest. */
async function addCopy(name: string, classes?: string[]): Promise<void> {
  await mkdir(join(models, name))
  await cp(join(ROOT, 'models/detector/detector.onnx'), join(models, name, 'detector.onnx'))
  const manifest = JSON.parse(await readFile(join(ROOT, 'models/detector/manifest.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(models, name, 'manifest.json'), JSON.stringify({ ...manifest, name, version: '0.2.0', ...(classes ? { classes, defectClasses: classes.slice(1) } : {}) }))
}

beforeAll(async () => {
  models = await mkdtemp(join(tmpdir(), 'linesight-cand-check-'))
  for (const dir of ['detector', 'prefilter', 'samples']) await cp(join(ROOT, 'models', dir), join(models, dir), { recursive: true })
  await addCopy('same-classes')
  await addCopy('other-classes', ['part', 'scratch', 'dent', 'stain', 'chip'])
  server = await startServer({ env: { LINESIGHT_MODELS_DIR: models, HTTPS_ENABLED: 'false', MODELS_WATCH: 'false', INFERENCE_WORKERS: '1', INFERENCE_THREADS: '1' } })
}, 120_000)
afterAll(async () => {
  await server?.stop()
  if (models) await rm(models, { recursive: true, force: true })
})

const json = (method: string, path: string, body?: unknown) =>
  server.admin(path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
const errorOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code })
const settingsOf = async (line: string) => (await (await json('GET', `/api/v1/lines/${line}/settings`)).json()) as LineSettings

describe('a candidate put through the line-settings PUT', () => {
  it('is refused with the candidate route’s codes when the candidate route would refuse it', async () => {
    const line = uniqueId('CCHK')
    expect((await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'detector' })).status).toBe(200)
    for (const [candidate, want] of [
      ['other-classes', { status: 422, code: 'classes_differ' }],
      ['no-such-model', { status: 422, code: 'unknown_model' }],
      ['detector', { status: 409, code: 'same_model' }],
    ] as const) {
      expect(await errorOf(await json('PUT', `/api/v1/lines/${line}/settings`, { candidate: { model: candidate, share: 1 } })), candidate).toEqual(want)
      expect(await errorOf(await json('PUT', `/api/v1/admin/lines/${line}/candidate`, { model: candidate, share: 1 })), candidate).toEqual(want)
    }
    expect((await settingsOf(line)).candidate).toBeUndefined()
  })

  it('accepts a candidate with the line model’s classes, and refuses a model change that would leave it incomparable', async () => {
    const line = uniqueId('CCHK')
    expect((await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'detector', candidate: { model: 'same-classes', share: 0.5 } })).status).toBe(200)
    expect((await settingsOf(line)).candidate).toEqual({ model: 'same-classes', share: 0.5 })
    // the line's model becomes one with other classes while the candidate stays: refused
    expect(await errorOf(await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'other-classes' }))).toEqual({ status: 422, code: 'classes_differ' })
    // the candidate itself as the line's model, candidate kept: refused
    expect(await errorOf(await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'same-classes' }))).toEqual({ status: 409, code: 'same_model' })
    const after = await settingsOf(line)
    expect({ model: after.model, candidate: after.candidate }).toEqual({ model: 'detector', candidate: { model: 'same-classes', share: 0.5 } })
    // the settings PUT merges its body over the line's settings: it cannot remove a candidate
    expect(await errorOf(await json('PUT', `/api/v1/lines/${line}/settings`, { candidate: null }))).toEqual({ status: 422, code: 'invalid_settings' })
    expect((await settingsOf(line)).candidate).toEqual({ model: 'same-classes', share: 0.5 })
    // once the candidate is discarded (its own route, audited) the model change goes through
    expect((await json('DELETE', `/api/v1/admin/lines/${line}/candidate`)).status).toBe(200)
    expect((await settingsOf(line)).candidate).toBeUndefined()
    const audit = (await (await json('GET', '/api/v1/admin/audit?limit=100')).json()) as { items: { action: string; target: string }[] }
    expect(audit.items.filter((e) => e.target === line).map((e) => e.action)).toContain('candidate.discard')
    expect((await json('PUT', `/api/v1/lines/${line}/settings`, { model: 'other-classes' })).status).toBe(200)
  })
})
