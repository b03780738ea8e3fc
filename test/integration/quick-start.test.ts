/**
 * The README's quick start, followed literally on a fresh data folder: `npm start` (the command
 * it runs, server/main.ts, with nothing set but free ports) prints a one-time sign-in link whose
 * fragment holds the admin token; with it an administrator adds a station, the station pairs with
 * the code and streams a frame to a result. Nothing else is given to the server.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { encodeEnvelope } from '../../shared/protocol/envelope.ts'
import { loadSamples } from '../helpers/samples.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

let server: RunningServer

beforeAll(async () => {
  // '' = no LINESIGHT_ADMIN_TOKEN: a first start, as `npm ci && npm start` on a new machine
  server = await startServer({ env: { LINESIGHT_ADMIN_TOKEN: '' } })
}, 120_000)
afterAll(async () => {
  await server?.stop()
})

describe('the README quick start', () => {
  it('prints a sign-in link with the admin token in its fragment, once, and it leads to a streaming station', async () => {
    const printed = server.logs.map((l) => (typeof l.msg === 'string' ? l.msg : JSON.stringify(l.msg ?? ''))).join('\n')
    const link = /http:\/\/localhost:(\d+)\/admin#token=(ls_[A-Za-z0-9_-]+)/.exec(printed)
    expect(link, printed.slice(0, 2000)).not.toBeNull()
    expect(Number(link![1])).toBe(server.port)
    const admin = { authorization: `Bearer ${link![2]}` }
    // the token is never in a query string nor a log line of its own
    expect(server.logs.filter((l) => JSON.stringify(l).includes(link![2]!))).toHaveLength(1)

    // "Add a station" in the admin page, as its API
    const added = await fetch(`${server.url}/api/v1/admin/devices`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'station', line: 'L1', station: 'S1' }) })
    expect(added.status).toBe(201)
    const { pairingCode } = (await added.json()) as { pairingCode: string }
    const paired = await fetch(`${server.url}/api/v1/pair`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: pairingCode }) })
    expect(paired.status).toBe(200)
    const { token } = (await paired.json()) as { token: string }

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/station`, { headers: { authorization: `Bearer ${token}` } })
    const messages: { type: string; result?: { frameId: string; verdict: string } }[] = []
    ws.on('message', (d) => messages.push(JSON.parse((d as Buffer).toString('utf8')) as (typeof messages)[number]))
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.send(JSON.stringify({ type: 'hello', line: 'L1', station: 'S1' }))
    await waitFor(() => messages.some((m) => m.type === 'welcome'), { timeoutMs: 30_000, what: 'welcome' })
    const sample = loadSamples()[0]!
    ws.send(
      encodeEnvelope({ kind: 'frame', frameId: 'quick-start-1', line: 'L1', station: 'S1', capturedAt: Date.now(), mime: 'image/jpeg', width: sample.width, height: sample.height, audit: false, shadow: false, payload: sample.bytes }),
    )
    const result = await waitFor(() => messages.find((m) => m.type === 'result')?.result, { timeoutMs: 60_000, what: 'the first result' })
    expect(result.frameId).toBe('quick-start-1')
    ws.close()

    // a second start prints no link: the token exists and is shown only once
    await server.stop({ keepData: true })
    const again = await startServer({ env: { LINESIGHT_ADMIN_TOKEN: '' }, dataDir: server.dataDir })
    try {
      expect(again.logs.some((l) => (typeof l.msg === 'string' ? l.msg : JSON.stringify(l.msg ?? '')).includes('#token='))).toBe(false)
    } finally {
      await again.stop()
      await rm(server.dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})
