import { describe, expect, it } from 'vitest'
import { HttpError } from '../errors.ts'
import { Authenticator, type VerifiedToken } from './authenticate.ts'

const TOKENS: Record<string, VerifiedToken> = {
  'station-l1-secret': { id: 'tok-s', role: 'station', lines: ['L1'] },
  'device-l1-s1-secret': { id: 'tok-d', role: 'station', lines: ['L1'], station: 'S1' },
  'admin-secret-0000': { id: 'tok-a', role: 'admin', lines: [] },
  'metrics-secret-000': { id: 'tok-m', role: 'metrics', lines: [] },
}

function auth(opts: { authRequired?: boolean; lines?: string[] } = {}) {
  const lines = new Set(opts.lines ?? ['L1'])
  const made: string[] = []
  const failures: string[] = []
  const a = new Authenticator(
    { verify: async (s) => TOKENS[s] ?? null },
    {
      authRequired: opts.authRequired ?? true,
      failuresPerMinute: 3,
      lines: { exists: async (l) => lines.has(l), create: async (l) => (made.push(l), lines.add(l), true) },
      onFailure: (address, code) => failures.push(`${address} ${code}`),
    },
  )
  return { a, made, failures }
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
const q = (s: string) => new URLSearchParams(s)
const status = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof HttpError ? `${e.status} ${e.code}` : String(e)))

describe('Authenticator', () => {
  it('refuses frames for a line nobody made, from a station token scoped to it', async () => {
    const { a, made } = auth({ lines: [] })
    expect(await status(a.authorize(bearer('station-l1-secret'), q('line=L1'), 'station', '10.0.0.1'))).toBe('403 unknown_line')
    expect(made).toEqual([])
  })

  it('makes a new line an administrator names, and one named on an open network', async () => {
    const closed = auth({ lines: [] })
    expect(await status(closed.a.authorize(bearer('admin-secret-0000'), q('line=L9'), 'station', ''))).toBe(200)
    expect(closed.made).toEqual(['L9'])
    const open = auth({ authRequired: false, lines: [] })
    expect(await status(open.a.authorize({}, q('line=L7'), 'station', ''))).toBe(200)
    expect(open.made).toEqual(['L7'])
  })

  it('does not make a line for a read', async () => {
    const { a, made } = auth({ lines: [] })
    expect(await status(a.authorize(bearer('admin-secret-0000'), q('line=L9'), 'read', ''))).toBe(200)
    expect(made).toEqual([])
  })

  it('holds a paired station to its station', async () => {
    const { a } = auth()
    expect(await status(a.authorize(bearer('device-l1-s1-secret'), q('line=L1&station=S1'), 'station', ''))).toBe(200)
    expect(await status(a.authorize(bearer('device-l1-s1-secret'), q('line=L1&station=S2'), 'station', ''))).toBe('403 forbidden')
  })

  it('lets a metrics token read /metrics and nothing else', async () => {
    const { a } = auth()
    expect(await status(a.authorize(bearer('metrics-secret-000'), q(''), 'metrics', ''))).toBe(200)
    expect(await status(a.authorize(bearer('metrics-secret-000'), q(''), 'read', ''))).toBe('403 forbidden')
    expect(await status(a.authorize(bearer('station-l1-secret'), q(''), 'metrics', ''))).toBe('403 forbidden')
  })

  it('reads the device cookie on device routes only, and never a token in the query string', async () => {
    const { a } = auth()
    const cookie = { cookie: 'a=b; linesight_device=station-l1-secret' }
    expect(await status(a.authorize(cookie, q('line=L1'), 'read', ''))).toBe(200)
    expect(await status(a.authorize({ cookie: 'linesight_device=admin-secret-0000' }, q(''), 'admin', ''))).toBe('401 unauthorized')
    expect(await status(a.authorize({}, q('token=admin-secret-0000'), 'read', ''))).toBe('401 unauthorized')
  })

  it('limits failed sign-ins per address, then refuses even a good token from it', async () => {
    const { a, failures } = auth()
    for (let i = 0; i < 3; i++) expect(await status(a.authorize(bearer('wrong-token-000000'), q(''), 'read', '10.0.0.9'))).toBe('401 invalid_token')
    expect(await status(a.authorize(bearer('admin-secret-0000'), q(''), 'read', '10.0.0.9'))).toBe('429 too_many_failures')
    expect(await status(a.authorize(bearer('admin-secret-0000'), q(''), 'read', '10.0.0.10'))).toBe(200)
    expect(failures).toEqual(Array(3).fill('10.0.0.9 invalid_token'))
  })
})
