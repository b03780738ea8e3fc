/**
 * The authorization matrix, with AUTH_REQUIRED=true (the default): every HTTP route the server
 * reports in its own access table (so a route added later fails this test until it is given a row
 * here) x every role (anonymous, station of L1, kiosk of L1, a paired station L1/S1, metrics,
 * admin) x the caller's own line and another line, with the status each must get; then both
 * WebSocket routes, for every role x own/other line.
 *
 * `authorized` marks routes owned by other parts of the system where only the authorization
 * outcome is this test's business: the caller got past the access check (not 401/403).
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { TUS, bearer, encodeMetadata, newUpload, tusUpload, waitForJob } from '../helpers/tus.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

const ROLES = ['anonymous', 'station', 'kiosk', 'device', 'metrics', 'admin'] as const
type Role = (typeof ROLES)[number]
type Scope = 'own' | 'other'
type Want = number | 'authorized'
/** A status for the role, or [own line, other line]. */
type Expect = Record<Role, Want | readonly [Want, Want]>

interface Req {
  method: string
  path: string
  headers?: Record<string, string>
  body?: Uint8Array | string
  /** Undo a side effect (resume after pause). */
  after?: () => Promise<unknown>
}

interface Case {
  access: 'public' | 'read' | 'station' | 'admin' | 'metrics'
  /** Whether the request names a line (then it runs for the caller's own line and another). */
  lined: boolean
  build(scope: Scope): Promise<Req> | Req
  want: Expect
}

const everyone = (s: Want): Expect => ({ anonymous: s, station: s, kiosk: s, device: s, metrics: s, admin: s })
const reader = (own: Want, other: Want, admin: Want = own): Expect => ({ anonymous: 401, station: [own, other], kiosk: [own, other], device: [own, other], metrics: 403, admin: [admin, admin] })
const sender = (own: Want, other: Want, admin: Want = own): Expect => ({ anonymous: 401, station: [own, other], kiosk: 403, device: [own, other], metrics: 403, admin: [admin, admin] })
const adminOnly = (s: Want): Expect => ({ anonymous: 401, station: 403, kiosk: 403, device: 403, metrics: 403, admin: s })

let server: RunningServer
const tokens = {} as Record<'stationL1' | 'kioskL1' | 'stationL2' | 'deviceL1' | 'metrics', string>
const fx = {} as { frame: Record<Scope, string>; job: Record<Scope, string>; upload: Record<Scope, string> }
const sample = loadSamples()[0]!.bytes

const lineOf = (scope: Scope) => (scope === 'own' ? 'L1' : 'L2')
const ownerOf = (scope: Scope) => (scope === 'own' ? tokens.stationL1 : tokens.stationL2)
const json = (v: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) })
const freshUpload = async (scope: Scope, length = 10) => new URL(await newUpload(server.url, length, { line: lineOf(scope) }, ownerOf(scope))).pathname

/** A device added by the admin: its pairing code. */
async function addDevice(body: object): Promise<{ id: string; pairingCode: string }> {
  const res = await server.admin('/api/v1/admin/devices', { method: 'POST', ...json(body) })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; pairingCode: string }
}

async function pair(code: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/pair`, { method: 'POST', ...json({ code }) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { token: string }).token
}

async function token(role: 'station' | 'kiosk' | 'metrics', lines: string[]): Promise<string> {
  const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', ...json({ role, lines, label: `matrix ${role}` }) })
  expect(res.status).toBe(201)
  return ((await res.json()) as { secret: string }).secret
}

const CASES: Record<string, Case> = {
  'GET /health': { access: 'public', lined: false, build: () => ({ method: 'GET', path: '/health' }), want: everyone(200) },
  'GET /ready': { access: 'public', lined: false, build: () => ({ method: 'GET', path: '/ready' }), want: everyone(200) },
  'GET /metrics': { access: 'metrics', lined: false, build: () => ({ method: 'GET', path: '/metrics' }), want: { ...adminOnly(200), metrics: 200 } },
  'POST /api/v1/detect': {
    access: 'station',
    lined: true,
    build: (s) => ({ method: 'POST', path: `/api/v1/detect?line=${lineOf(s)}&station=S1`, headers: { 'content-type': 'image/jpeg' }, body: sample }),
    want: sender(200, 403),
  },
  'GET /api/v1/results': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/results?line=${lineOf(s)}` }), want: reader(200, 403) },
  'GET /api/v1/results/:frameId': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/results/${fx.frame[s]}` }), want: reader(200, 404) },
  // no server-inferred frame keeps an image yet, so an allowed caller gets "no image" (404 too)
  'GET /api/v1/results/:frameId/image': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/results/${fx.frame[s]}/image` }), want: reader('authorized', 404) },
  'POST /api/v1/results/:frameId/review': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: `/api/v1/results/${fx.frame.own}/review`, ...json({ verdict: 'pass', detections: [] }) }), want: adminOnly(201) },
  'GET /api/v1/results/:frameId/reviews': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: `/api/v1/results/${fx.frame.own}/reviews` }), want: adminOnly(200) },
  'POST /api/v1/results/:frameId/flag': { access: 'read', lined: true, build: (s) => ({ method: 'POST', path: `/api/v1/results/${fx.frame[s]}/flag`, ...json({}) }), want: reader(201, 404) },
  'GET /api/v1/review': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/review?line=L1' }), want: adminOnly(200) },
  'GET /api/v1/datasets/yolo': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/datasets/yolo?line=L1' }), want: adminOnly(200) },
  'GET /api/v1/admin/lines/:line/candidate': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/lines/L1/candidate' }), want: adminOnly(200) },
  'PUT /api/v1/admin/lines/:line/candidate': { access: 'admin', lined: false, build: () => ({ method: 'PUT', path: '/api/v1/admin/lines/L1/candidate', ...json({ model: 'no-such-model', share: 1 }) }), want: adminOnly('authorized') },
  'DELETE /api/v1/admin/lines/:line/candidate': { access: 'admin', lined: false, build: () => ({ method: 'DELETE', path: '/api/v1/admin/lines/L1/candidate' }), want: adminOnly('authorized') },
  'POST /api/v1/admin/lines/:line/candidate/promote': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/lines/L1/candidate/promote' }), want: adminOnly('authorized') },
  'POST /api/v1/admin/lines/:line/rollback': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/lines/L1/rollback' }), want: adminOnly('authorized') },
  // no station of these lines is in trigger mode, and no part exists: past the access check, 409 and 404
  'POST /api/v1/lines/:line/stations/:station/trigger': { access: 'station', lined: true, build: (s) => ({ method: 'POST', path: `/api/v1/lines/${lineOf(s)}/stations/S1/trigger`, ...json({ partId: 'P-1' }) }), want: sender('authorized', 403) },
  'GET /api/v1/lines/:line/parts': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/lines/${lineOf(s)}/parts` }), want: reader(200, 403) },
  'GET /api/v1/lines/:line/parts/:partId': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/lines/${lineOf(s)}/parts/P-1` }), want: reader('authorized', 403) },
  'GET /api/v1/lines/:line/part-counts': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/lines/${lineOf(s)}/part-counts` }), want: reader(200, 403) },
  'POST /api/v1/lines/:line/parts/:partId/close': { access: 'station', lined: true, build: (s) => ({ method: 'POST', path: `/api/v1/lines/${lineOf(s)}/parts/P-1/close` }), want: sender('authorized', 403) },
  'GET /api/v1/lines': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/api/v1/lines' }), want: reader(200, 200) },
  'GET /api/v1/lines/:line/settings': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/lines/${lineOf(s)}/settings` }), want: reader(200, 403) },
  'PUT /api/v1/lines/:line/settings': { access: 'admin', lined: true, build: (s) => ({ method: 'PUT', path: `/api/v1/lines/${lineOf(s)}/settings`, ...json({ captureFps: 5 }) }), want: adminOnly(200) },
  'GET /api/v1/models': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/api/v1/models' }), want: reader(200, 200) },
  'GET /models/:name/:file': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/models/detector/manifest.json' }), want: reader(200, 200) },
  'GET /api/v1/samples': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/api/v1/samples' }), want: reader(200, 200) },
  'GET /api/v1/samples/:file': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/api/v1/samples/crack.jpg' }), want: reader(200, 200) },
  'POST /api/v1/admin/devices': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/devices', ...json({ kind: 'kiosk', lines: ['L1'] }) }), want: adminOnly(201) },
  'GET /api/v1/admin/devices': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/devices' }), want: adminOnly(200) },
  'PATCH /api/v1/admin/devices/:id': {
    access: 'admin',
    lined: false,
    build: async () => ({ method: 'PATCH', path: `/api/v1/admin/devices/${(await addDevice({ kind: 'kiosk', lines: ['L1'] })).id}`, ...json({ name: 'Hall display' }) }),
    want: adminOnly(200),
  },
  'DELETE /api/v1/admin/devices/:id': {
    access: 'admin',
    lined: false,
    build: async () => ({ method: 'DELETE', path: `/api/v1/admin/devices/${(await addDevice({ kind: 'station', line: 'L1', station: 'S9' })).id}` }),
    want: adminOnly(204),
  },
  // the way in without a token: anyone holding a fresh code pairs
  'POST /api/v1/pair': { access: 'public', lined: false, build: async () => ({ method: 'POST', path: '/api/v1/pair', ...json({ code: (await addDevice({ kind: 'kiosk', lines: ['L1'] })).pairingCode }) }), want: everyone(200) },
  'GET /api/v1/me': { access: 'read', lined: false, build: () => ({ method: 'GET', path: '/api/v1/me' }), want: reader(200, 200) },
  'POST /api/v1/admin/inference/pause': {
    access: 'admin',
    lined: false,
    build: () => ({ method: 'POST', path: '/api/v1/admin/inference/pause', after: () => server.admin('/api/v1/admin/inference/resume', { method: 'POST' }) }),
    want: adminOnly(200),
  },
  'POST /api/v1/admin/inference/resume': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/inference/resume' }), want: adminOnly(200) },
  'GET /api/v1/admin/dead-letters': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/dead-letters' }), want: adminOnly(200) },
  'POST /api/v1/admin/dead-letters/:id/requeue': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/dead-letters/no-such-frame/requeue' }), want: adminOnly('authorized') },
  'DELETE /api/v1/admin/dead-letters/:id': { access: 'admin', lined: false, build: () => ({ method: 'DELETE', path: '/api/v1/admin/dead-letters/no-such-frame' }), want: adminOnly('authorized') },
  'GET /api/v1/admin/models': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/models' }), want: adminOnly('authorized') },
  'POST /api/v1/admin/models': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/models', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(0) }), want: adminOnly('authorized') },
  'POST /api/v1/admin/models/:name/reload': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/models/detector/reload' }), want: adminOnly('authorized') },
  'OPTIONS /api/v1/uploads': { access: 'public', lined: false, build: () => ({ method: 'OPTIONS', path: '/api/v1/uploads' }), want: everyone(204) },
  'OPTIONS /api/v1/uploads/:id': { access: 'public', lined: true, build: (s) => ({ method: 'OPTIONS', path: fx.upload[s] }), want: everyone(204) },
  'POST /api/v1/uploads': {
    access: 'station',
    lined: true,
    build: (s) => ({ method: 'POST', path: '/api/v1/uploads', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': encodeMetadata({ line: lineOf(s) }) } }),
    want: sender(201, 403),
  },
  // someone else's upload does not exist for the caller; only its owner and admins see it
  // (the paired station is another token than the upload's owner)
  'HEAD /api/v1/uploads/:id': { access: 'station', lined: true, build: (s) => ({ method: 'HEAD', path: fx.upload[s], headers: TUS }), want: { ...sender(200, 404), device: 404 } },
  'PATCH /api/v1/uploads/:id': {
    access: 'station',
    lined: true,
    build: async (s) => ({ method: 'PATCH', path: await freshUpload(s), headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: randomBytes(4) }),
    want: { ...sender(204, 404), device: 404 },
  },
  'DELETE /api/v1/uploads/:id': { access: 'station', lined: true, build: async (s) => ({ method: 'DELETE', path: await freshUpload(s), headers: TUS }), want: { ...sender(204, 404), device: 404 } },
  'GET /api/v1/jobs': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/jobs?line=${lineOf(s)}` }), want: reader(200, 403) },
  'GET /api/v1/jobs/:id': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/jobs/${fx.job[s]}` }), want: reader(200, 404) },
  'GET /api/v1/jobs/:id/results': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/jobs/${fx.job[s]}/results?format=csv` }), want: reader(200, 404) },
  'POST /api/v1/admin/tokens': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/tokens', ...json({ role: 'kiosk', lines: ['L1'], label: 'matrix' }) }), want: adminOnly(201) },
  'GET /api/v1/admin/tokens': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/tokens' }), want: adminOnly(200) },
  'DELETE /api/v1/admin/tokens/:id': {
    access: 'admin',
    lined: false,
    build: async () => {
      const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', ...json({ role: 'kiosk', lines: ['L1'], label: 'to revoke' }) })
      return { method: 'DELETE', path: `/api/v1/admin/tokens/${((await res.json()) as { token: { id: string } }).token.id}` }
    },
    want: adminOnly(204),
  },
  'GET /api/v1/admin/audit': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/audit' }), want: adminOnly(200) },
  'GET /api/v1/admin/scaling': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/scaling' }), want: adminOnly('authorized') },
  'PUT /api/v1/admin/scaling': { access: 'admin', lined: false, build: () => ({ method: 'PUT', path: '/api/v1/admin/scaling', ...json({ nonsense: true }) }), want: adminOnly('authorized') },
  'POST /api/v1/admin/scaling/what-if': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/scaling/what-if', ...json({}) }), want: adminOnly('authorized') },
  'POST /api/v1/admin/webhooks': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/webhooks', ...json({ url: 'http://127.0.0.1:9/matrix', events: ['part.failed'] }) }), want: adminOnly(201) },
  'GET /api/v1/admin/webhooks': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/webhooks' }), want: adminOnly(200) },
  'DELETE /api/v1/admin/webhooks/:id': { access: 'admin', lined: false, build: () => ({ method: 'DELETE', path: '/api/v1/admin/webhooks/wh-none' }), want: adminOnly('authorized') },
  'GET /api/v1/admin/webhooks/deliveries': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/webhooks/deliveries?status=dead' }), want: adminOnly(200) },
  'POST /api/v1/admin/webhooks/deliveries/resend': { access: 'admin', lined: false, build: () => ({ method: 'POST', path: '/api/v1/admin/webhooks/deliveries/resend', ...json({ webhookId: 'wh-none', messageId: 'm' }) }), want: adminOnly('authorized') },
  'GET /api/v1/status/history': { access: 'read', lined: true, build: (s) => ({ method: 'GET', path: `/api/v1/status/history?line=${lineOf(s)}` }), want: reader('authorized', 403) },
  'OPTIONS /api/*': { access: 'public', lined: false, build: () => ({ method: 'OPTIONS', path: '/api/v1/results' }), want: everyone(204) },
  'OPTIONS /*': { access: 'public', lined: false, build: () => ({ method: 'OPTIONS', path: '/station' }), want: everyone(204) },
  'ANY /api/*': { access: 'public', lined: false, build: () => ({ method: 'GET', path: '/api/v1/no-such-route' }), want: everyone(404) },
  'GET /api/v1/admin/access': { access: 'admin', lined: false, build: () => ({ method: 'GET', path: '/api/v1/admin/access' }), want: adminOnly(200) },
}

function tokenOf(role: Role): string | undefined {
  return { anonymous: undefined, station: tokens.stationL1, kiosk: tokens.kioskL1, device: tokens.deviceL1, metrics: tokens.metrics, admin: server.adminToken }[role]
}

beforeAll(async () => {
  server = await startServer({ env: { UPLOAD_MAX_PENDING_PER_CLIENT: '100' } })
  tokens.stationL1 = await token('station', ['L1'])
  tokens.metrics = await token('metrics', [])
  tokens.deviceL1 = await pair((await addDevice({ kind: 'station', line: 'L1', station: 'S1' })).pairingCode)
  tokens.kioskL1 = await token('kiosk', ['L1'])
  tokens.stationL2 = await token('station', ['L2'])
  const frame = async (line: string) => {
    const res = await server.admin(`/api/v1/detect?line=${line}&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: sample as BodyInit })
    expect(res.status).toBe(200)
    return ((await res.json()) as { frameId: string }).frameId
  }
  fx.frame = { own: await frame('L1'), other: await frame('L2') }
  fx.job = { own: await tusUpload(server.url, sample, { line: 'L1' }, tokens.stationL1), other: await tusUpload(server.url, sample, { line: 'L2' }, tokens.stationL2) }
  await waitForJob(server.url, fx.job.own, server.adminToken)
  await waitForJob(server.url, fx.job.other, server.adminToken)
  fx.upload = { own: await freshUpload('own', 100), other: await freshUpload('other', 100) }
}, 240_000)

afterAll(async () => {
  await server?.stop()
})

describe('HTTP authorization with AUTH_REQUIRED on (the default)', () => {
  it('has a row for every route in the server\'s access table, with the access level it declares', async () => {
    const res = await server.admin('/api/v1/admin/access')
    expect(res.status).toBe(200)
    const table = (await res.json()) as { routes: { method: string; pattern: string; access: string }[] }
    const served = Object.fromEntries(table.routes.map((r) => [`${r.method.toUpperCase()} ${r.pattern}`, r.access]))
    const described = Object.fromEntries(Object.entries(CASES).map(([k, c]) => [k, c.access]))
    expect(served).toEqual(described)
  })

  it('answers every route for every role, on its own line and another, with the expected status', async () => {
    const wrong: string[] = []
    for (const [key, c] of Object.entries(CASES)) {
      for (const role of ROLES) {
        for (const scope of c.lined ? (['own', 'other'] as const) : (['own'] as const)) {
          const want = c.want[role]
          const expected = Array.isArray(want) ? want[scope === 'own' ? 0 : 1] : (want as Want)
          const req = await c.build(scope)
          const res = await fetch(server.url + req.path, { method: req.method, headers: { ...req.headers, ...bearer(tokenOf(role)) }, ...(req.body !== undefined ? { body: req.body as BodyInit } : {}) })
          await res.arrayBuffer()
          await req.after?.()
          const okay = expected === 'authorized' ? res.status !== 401 && res.status !== 403 : res.status === expected
          if (!okay) wrong.push(`${key} as ${role} on ${scope === 'own' ? 'its' : 'another'} line: ${res.status}, expected ${expected}`)
        }
      }
    }
    expect(wrong).toEqual([])
  }, 240_000)

  it('records token changes and inference pauses in the audit log, with who did them', async () => {
    const res = await server.admin('/api/v1/admin/audit?limit=1000')
    const { items } = (await res.json()) as { items: { actor: string; action: string; target: string; before?: unknown; after?: unknown }[] }
    const actions = new Set(items.map((i) => i.action))
    for (const a of ['token.create', 'token.revoke', 'inference.pause', 'inference.resume', 'settings.put', 'device.create', 'device.pair', 'device.rename', 'device.revoke', 'line.create']) expect(actions).toContain(a)
    const pause = items.find((i) => i.action === 'inference.pause')!
    expect(pause).toMatchObject({ actor: expect.stringMatching(/^admin:tok-/), before: { paused: false }, after: { paused: true } })
  })
})

interface WsOutcome {
  status?: number
  messages: { type: string; error?: { code: string } }[]
}

/** Opens a socket as `role`, sends `send` once open, and collects the replies until `done` says so. */
function socket(path: string, role: Role, send: object, done: (m: WsOutcome['messages']) => boolean): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const t = tokenOf(role)
    // a non-browser client authenticates the upgrade with its bearer token
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, { headers: t ? { authorization: `Bearer ${t}` } : {} })
    const out: WsOutcome = { messages: [] }
    ws.on('unexpected-response', (_req, res) => {
      out.status = res.statusCode
      res.resume()
      resolve(out)
    })
    ws.on('open', () => ws.send(JSON.stringify(send)))
    ws.on('message', (data) => {
      out.messages.push(JSON.parse(String(data as Buffer)) as WsOutcome['messages'][number])
      if (done(out.messages)) {
        ws.close()
        resolve(out)
      }
    })
    ws.on('error', reject)
  })
}

describe('WebSocket authorization with AUTH_REQUIRED on (the default)', () => {
  const answer = (types: string[]) => (m: WsOutcome['messages']) => m.some((x) => types.includes(x.type))
  const outcome = (o: WsOutcome) => o.status ?? o.messages.find((m) => m.type !== 'load')?.type + (o.messages.find((m) => m.error)?.error?.code ? `:${o.messages.find((m) => m.error)!.error!.code}` : '')

  it.each([
    ['anonymous', 'L1', 'S1', 401],
    ['anonymous', 'L2', 'S1', 401],
    ['kiosk', 'L1', 'S1', 403],
    ['kiosk', 'L2', 'S1', 403],
    ['metrics', 'L1', 'S1', 403],
    ['station', 'L1', 'S1', 'welcome'],
    ['station', 'L2', 'S1', 'error:forbidden'],
    ['device', 'L1', 'S1', 'welcome'],
    ['device', 'L1', 'S2', 'error:forbidden'],
    ['device', 'L2', 'S1', 'error:forbidden'],
    ['admin', 'L1', 'S1', 'welcome'],
    ['admin', 'L2', 'S1', 'welcome'],
  ] as const)('/ws/station: %s says hello for %s/%s and gets %s', async (role, line, station, want) => {
    const o = await socket('/ws/station', role, { type: 'hello', line, station }, answer(['welcome', 'error']))
    expect(outcome(o)).toBe(want)
  })

  it.each([
    ['anonymous', 'L1', 401],
    ['anonymous', 'L2', 401],
    ['metrics', 'L1', 403],
    ['device', 'L1', 'subscribed'],
    ['device', 'L2', 'error:forbidden'],
    ['admin', 'L1', 'subscribed'],
    ['station', 'L1', 'subscribed'],
    ['station', 'L2', 'error:forbidden'],
    ['kiosk', 'L1', 'subscribed'],
    ['kiosk', 'L2', 'error:forbidden'],
    ['admin', 'L2', 'subscribed'],
  ] as const)('/ws/kiosk: %s subscribes to %s and gets %s', async (role, line, want) => {
    const o = await socket('/ws/kiosk', role, { type: 'subscribe', lines: [line] }, answer(['subscribed', 'error']))
    expect(outcome(o)).toBe(want)
  })
})
