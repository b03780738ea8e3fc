/**
 * Authorization on a trusted plant network (AUTH_REQUIRED=false; the default is true): callers without a
 * token may stream and read every line, admin routes still need the admin token, and a token
 * that is given still narrows what its holder may do. Also: CORS stays closed except for the
 * origins named, and a stale LINESIGHT_ADMIN_TOKEN is reported and opens nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TUS, encodeMetadata } from '../helpers/tus.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const ORIGIN = 'https://hmi.plant.example'
const sample = loadSamples()[0]!.bytes

let server: RunningServer

beforeAll(async () => {
  server = await startServer({ env: { CORS_ORIGINS: ORIGIN, AUTH_REQUIRED: 'false' } })
}, 120_000)
afterAll(async () => {
  await server?.stop()
})

async function token(role: 'station' | 'kiosk', lines: string[]): Promise<string> {
  const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role, lines, label: 'open network' }) })
  expect(res.status).toBe(201)
  return ((await res.json()) as { secret: string }).secret
}

const detect = (line: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/v1/detect?line=${line}&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg', ...headers }, body: sample as BodyInit })
const createUpload = (line: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': encodeMetadata({ line }), ...headers } })

describe('without AUTH_REQUIRED', () => {
  it('lets a caller without a token stream, upload and read on any line', async () => {
    expect((await detect('L7')).status).toBe(200)
    expect((await createUpload('L9')).status).toBe(201)
    expect((await fetch(`${server.url}/api/v1/results?line=L7`)).status).toBe(200)
    expect((await fetch(`${server.url}/api/v1/jobs?line=L9`)).status).toBe(200)
  })

  it.each(['/api/v1/admin/tokens', '/api/v1/admin/audit', '/api/v1/admin/access'])('still needs the admin token for %s', async (path) => {
    const res = await fetch(server.url + path)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('narrows a caller who does give a token to that token\'s role and lines', async () => {
    const station = { authorization: `Bearer ${await token('station', ['L1'])}` }
    const kiosk = { authorization: `Bearer ${await token('kiosk', ['L1'])}` }
    expect((await detect('L1', station)).status).toBe(200)
    expect((await detect('L2', station)).status).toBe(403)
    expect((await createUpload('L2', station)).status).toBe(403)
    expect((await detect('L1', kiosk)).status).toBe(403)
    expect((await createUpload('L1', kiosk)).status).toBe(403)
    expect((await fetch(`${server.url}/api/v1/admin/tokens`, { headers: station })).status).toBe(403)
  })
})

describe('CORS', () => {
  const preflight = (origin: string, method = 'PATCH') =>
    fetch(`${server.url}/api/v1/uploads/0123456789abcdef0123456789abcdef`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'tus-resumable, upload-offset, content-type' } })

  it('answers a preflight from a listed origin with what a tus client needs', async () => {
    const res = await preflight(ORIGIN)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('access-control-allow-methods')).toMatch(/PATCH/)
    expect(res.headers.get('access-control-allow-headers')).toMatch(/upload-offset/)
    const created = await createUpload('L1', { origin: ORIGIN })
    expect(created.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(created.headers.get('access-control-expose-headers')).toMatch(/location/)
  })

  it('refuses a preflight from any other origin, on tus and other routes alike', async () => {
    for (const path of ['/api/v1/uploads/0123456789abcdef0123456789abcdef', '/api/v1/results', '/station']) {
      const res = await fetch(server.url + path, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
      expect({ path, status: res.status, allow: res.headers.get('access-control-allow-origin') }).toEqual({ path, status: 403, allow: null })
    }
  })
})

describe('LINESIGHT_ADMIN_TOKEN', () => {
  it('warns when it names a revoked token, and that token opens nothing', async () => {
    const first = await startServer()
    let second: RunningServer | undefined
    try {
      const created = await first.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'admin', label: 'successor' }) })
      const successor = (await created.json()) as { secret: string }
      const tokens = (await (await first.admin('/api/v1/admin/tokens')).json()) as { tokens: { id: string; label: string }[] }
      const bootstrap = tokens.tokens.find((t) => t.label === 'bootstrap')!
      const revoked = await fetch(`${first.url}/api/v1/admin/tokens/${bootstrap.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${successor.secret}` } })
      expect(revoked.status).toBe(204)
      await first.stop({ keepData: true })

      second = await startServer({ dataDir: first.dataDir, env: { LINESIGHT_ADMIN_TOKEN: first.adminToken } })
      await waitFor(() => second!.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('names a revoked token')), { what: 'the stale admin token warning' })
      expect((await fetch(`${second.url}/api/v1/admin/tokens`, { headers: { authorization: `Bearer ${first.adminToken}` } })).status).toBe(401)
      expect((await fetch(`${second.url}/api/v1/admin/tokens`, { headers: { authorization: `Bearer ${successor.secret}` } })).status).toBe(200)
    } finally {
      await second?.stop()
      await first.stop()
    }
  }, 240_000)

  it('will not revoke the last admin token', async () => {
    const tokens = (await (await server.admin('/api/v1/admin/tokens')).json()) as { tokens: { id: string; role: string; revokedAt?: number }[] }
    const admins = tokens.tokens.filter((t) => t.role === 'admin' && t.revokedAt === undefined)
    expect(admins).toHaveLength(1)
    const res = await server.admin(`/api/v1/admin/tokens/${admins[0]!.id}`, { method: 'DELETE' })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('last_admin')
  })
})
