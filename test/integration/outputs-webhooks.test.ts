/**
 * Webhooks end to end: a linesight (in this process, so part events can come from an in-process
 * emitter; part tracking is its own issue) with its real HTTP API and SQLite store, and real
 * HTTP receivers. Signatures verify with the standardwebhooks package, a receiver that is down
 * and then up gets every event as first written, a linesight restart in between loses nothing,
 * and a delivery that never succeeds is dead-lettered and can be re-sent.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { startLinesight, type Linesight } from '../../server/app.ts'
import { loadConfig } from '../../server/config/index.ts'
import { createLogger } from '../../server/log.ts'
import { createMetrics } from '../../server/metrics/metrics.ts'
import { OutputDispatcher } from '../../server/outputs/dispatcher.ts'
import { WebhookDeliverer } from '../../server/outputs/webhooks/deliverer.ts'
import { WebhookOutput } from '../../server/outputs/webhooks/output.ts'
import { LocalResultBus } from '../../server/results/bus.ts'
import { openSqliteStore } from '../../server/storage/sqlite.ts'
import { freePort } from '../helpers/browser.ts'
import { closedPart, PartEmitter } from '../helpers/parts.ts'
import { ROOT } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

interface Delivery {
  headers: IncomingHttpHeaders
  body: string
}

/** A receiver on a fixed port that can be taken down and brought back. */
class Receiver {
  readonly got: Delivery[] = []
  status = 204
  #server: Server | undefined
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/mes`
  }
  async up(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(this.status).end()
      })
    })
    await new Promise<void>((r) => this.#server!.listen(this.port, '127.0.0.1', r))
  }
  async down(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    if (s) await new Promise<void>((r) => (s.close(() => r()), s.closeAllConnections()))
  }
}

interface Running {
  app: Linesight
  url: string
  parts: PartEmitter
  admin(path: string, init?: RequestInit): Promise<Response>
}

const adminToken = `ls_test_${randomBytes(16).toString('hex')}`
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function start(dataDir: string, env: Record<string, string> = {}): Promise<Running> {
  const config = loadConfig({
    LINESIGHT_ROLE: 'gateway',
    HOST: '127.0.0.1',
    PORT: '0',
    HTTPS_ENABLED: 'false',
    SERVE_CLIENT: 'false',
    SHUTDOWN_DRAIN_MS: '0',
    LINESIGHT_DATA_DIR: dataDir,
    LINESIGHT_MODELS_DIR: join(ROOT, 'models'),
    LINESIGHT_ADMIN_TOKEN: adminToken,
    AUTH_REQUIRED: 'true',
    ...env,
  })
  const parts = new PartEmitter()
  const app = await startLinesight(config, createLogger('silent'), { root: ROOT, parts: { events: parts } })
  const url = `http://127.0.0.1:${app.gateway!.port}`
  return { app, url, parts, admin: (path, init = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } }) }
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'linesight-webhooks-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function addWebhook(ls: Running, body: object): Promise<{ id: string; secret: string }> {
  const res = await ls.admin('/api/v1/admin/webhooks', { method: 'POST', body: JSON.stringify(body) })
  expect(res.status).toBe(201)
  expect(res.headers.get('cache-control')).toBe('no-store')
  return (await res.json()) as { id: string; secret: string }
}

describe('webhooks', () => {
  it('signs each delivery in the Standard Webhooks style, and only for the events and lines asked for', async () => {
    const receiver = new Receiver(await freePort())
    await receiver.up()
    cleanups.push(() => receiver.down())
    const ls = await start(await dataDir())
    cleanups.push(() => ls.app.close())
    const hook = await addWebhook(ls, { url: receiver.url, events: ['part.failed'], lines: ['L1'] })
    expect(hook.secret).toMatch(/^whsec_/)
    const listed = (await (await ls.admin('/api/v1/admin/webhooks')).json()) as { webhooks: object[] }
    expect(JSON.stringify(listed)).not.toContain(hook.secret)

    const failed = closedPart({ verdict: 'fail' })
    ls.parts.close(closedPart({ verdict: 'pass' })) // not part.failed
    ls.parts.close(closedPart({ verdict: 'fail', line: 'L2' })) // another line
    ls.parts.close(failed)
    await waitFor(() => receiver.got.length >= 1, { what: 'the delivery' })
    const [d] = receiver.got
    const verified = new Webhook(hook.secret).verify(d!.body, d!.headers as Record<string, string>) as { type: string; data: { partId: string } }
    expect(verified).toMatchObject({ type: 'part.failed', data: { partId: failed.partId, line: 'L1', verdict: 'fail' } })
    expect(d!.headers['webhook-id']).toBe(`part.failed:L1:S1:${failed.partId}`)
    expect(d!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/)
    // a changed body or another secret does not verify
    expect(() => new Webhook(hook.secret).verify(d!.body.replace('fail', 'pass'), d!.headers as Record<string, string>)).toThrow()
    expect(() => new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(d!.body, d!.headers as Record<string, string>)).toThrow()
    // the pass and the other line's part never reached the outbox
    const deliveries = (await (await ls.admin('/api/v1/admin/webhooks/deliveries')).json()) as { deliveries: { messageId: string; status: string }[] }
    expect(deliveries.deliveries.map((x) => [x.messageId, x.status])).toEqual([[`part.failed:L1:S1:${failed.partId}`, 'delivered']])
  }, 120_000)

  it('refuses URLs it must not send to', async () => {
    const ls = await start(await dataDir(), { WEBHOOK_ALLOWED_HOSTS: 'mes.plant.local,10.1.2.3' })
    cleanups.push(() => ls.app.close())
    const post = async (body: object) => {
      const res = await ls.admin('/api/v1/admin/webhooks', { method: 'POST', body: JSON.stringify(body) })
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code }
    }
    expect(await post({ url: 'http://evil.example/x', events: ['part.failed'] })).toEqual({ status: 400, code: 'invalid_webhook' })
    expect(await post({ url: 'http://user:pw@mes.plant.local/x', events: ['part.failed'] })).toEqual({ status: 400, code: 'invalid_webhook' })
    expect(await post({ url: 'ftp://mes.plant.local/x', events: ['part.failed'] })).toEqual({ status: 400, code: 'invalid_webhook' })
    expect(await post({ url: 'http://mes.plant.local/x', events: ['part.exploded'] })).toEqual({ status: 400, code: 'invalid_webhook' })
    expect((await post({ url: 'http://10.1.2.3:8000/x', events: ['station.offline'] })).status).toBe(201)
    expect((await fetch(`${ls.url}/api/v1/admin/webhooks`)).status).toBe(401)
  }, 120_000)

  it('delivers every event exactly as written to a receiver that was down, across a linesight restart', async () => {
    const receiver = new Receiver(await freePort())
    cleanups.push(() => receiver.down())
    const dir = await dataDir()
    const env = { WEBHOOK_RETRY_SCHEDULE_MS: Array.from({ length: 200 }, () => '250').join(',') }
    let ls = await start(dir, env)
    const hook = await addWebhook(ls, { url: receiver.url, events: ['part.failed', 'part.inspected'], lines: ['L1'] })
    const sent = Array.from({ length: 12 }, (_, i) => closedPart({ verdict: i % 4 === 0 ? 'fail' : 'pass' }))
    for (const p of sent) ls.parts.close(p)
    const expected = sent.flatMap((p) => [`part.inspected:L1:S1:${p.partId}`, ...(p.verdict === 'fail' ? [`part.failed:L1:S1:${p.partId}`] : [])])
    // every one tried at least once against the dead receiver
    await waitFor(async () => {
      const { deliveries } = (await (await ls.admin('/api/v1/admin/webhooks/deliveries?status=pending')).json()) as { deliveries: { attempts: number; lastError?: string }[] }
      return deliveries.length === expected.length && deliveries.every((d) => d.attempts >= 1 && d.lastError === 'ECONNREFUSED')
    }, { timeoutMs: 30_000, what: 'failed first attempts' })
    const written = new Map(((await (await ls.admin('/api/v1/admin/webhooks/deliveries?limit=1000')).json()) as { deliveries: { messageId: string; payload: string }[] }).deliveries.map((d) => [d.messageId, d.payload]))

    await ls.app.close()
    ls = await start(dir, env)
    cleanups.push(() => ls.app.close())
    ls.parts.close(sent[0]!) // part tracking reports a part again after a restart (at least once): one delivery still
    await receiver.up()
    await waitFor(() => new Set(receiver.got.map((d) => d.headers['webhook-id'])).size >= expected.length, { timeoutMs: 60_000, what: 'every event at the receiver' })

    const byId = new Map<string, string[]>()
    for (const d of receiver.got) {
      new Webhook(hook.secret).verify(d.body, d.headers as Record<string, string>)
      const id = String(d.headers['webhook-id'])
      byId.set(id, [...(byId.get(id) ?? []), d.body])
    }
    expect([...byId.keys()].sort()).toEqual([...expected].sort())
    for (const [id, bodies] of byId) for (const body of bodies) expect(body).toBe(written.get(id))
    const { deliveries } = (await (await ls.admin('/api/v1/admin/webhooks/deliveries?limit=1000')).json()) as { deliveries: { status: string }[] }
    expect(deliveries.length).toBe(expected.length)
    await waitFor(async () => {
      const d = (await (await ls.admin('/api/v1/admin/webhooks/deliveries?status=delivered&limit=1000')).json()) as { deliveries: unknown[] }
      return d.deliveries.length === expected.length
    }, { what: 'every delivery recorded as delivered' })
  }, 180_000)

  it('dead-letters a delivery after its last retry and re-sends it on request', async () => {
    const receiver = new Receiver(await freePort())
    receiver.status = 500
    await receiver.up()
    cleanups.push(() => receiver.down())
    const ls = await start(await dataDir(), { WEBHOOK_RETRY_SCHEDULE_MS: '50,50' })
    cleanups.push(() => ls.app.close())
    const hook = await addWebhook(ls, { url: receiver.url, events: ['part.failed'] })
    const part = closedPart({ verdict: 'fail', line: 'L7' })
    ls.parts.close(part)
    const dead = await waitFor(async () => {
      const { deliveries } = (await (await ls.admin('/api/v1/admin/webhooks/deliveries?status=dead')).json()) as { deliveries: { messageId: string; attempts: number; lastStatus: number }[] }
      return deliveries[0]
    }, { timeoutMs: 30_000, what: 'a dead letter' })
    expect(dead).toMatchObject({ messageId: `part.failed:L7:S1:${part.partId}`, attempts: 3, lastStatus: 500 })
    expect(receiver.got.length).toBe(3)

    receiver.status = 200
    const res = await ls.admin('/api/v1/admin/webhooks/deliveries/resend', { method: 'POST', body: JSON.stringify({ webhookId: hook.id, messageId: dead.messageId }) })
    expect(res.status).toBe(202)
    await waitFor(() => receiver.got.length === 4, { what: 'the re-sent delivery' })
    expect(new Set(receiver.got.map((d) => d.body)).size).toBe(1) // the same bytes every time
    expect((await ls.admin('/api/v1/admin/webhooks/deliveries/resend', { method: 'POST', body: JSON.stringify({ webhookId: hook.id, messageId: 'nope' }) })).status).toBe(404)
  }, 120_000)
})

describe('station.offline webhooks', () => {
  it('posts one signed station.offline per time a station leaves', async () => {
    const receiver = new Receiver(await freePort())
    await receiver.up()
    cleanups.push(() => receiver.down())
    const store = openSqliteStore({ dataDir: await dataDir() })
    await store.migrate()
    cleanups.push(() => store.close())
    const hook = await store.webhooks.create({ url: receiver.url, events: ['station.offline'], createdBy: 'test' })
    const metrics = createMetrics({ defaultMetrics: false })
    const quiet = { warn: () => undefined }
    const deliverer = new WebhookDeliverer({ store: store.webhooks, retryScheduleMs: [100], timeoutMs: 5000, metrics, log: quiet })
    const output = new WebhookOutput({ store: store.webhooks, queueMax: 100, metrics, log: quiet, onQueued: () => deliverer.poke() })
    const here = [{ line: 'L3', station: 'S1' }]
    const dispatcher = new OutputDispatcher({ sinks: [output], results: new LocalResultBus(), presence: () => here, presenceIntervalMs: 60_000, statsIntervalMs: 60_000, log: quiet })
    cleanups.push(async () => {
      await dispatcher.close()
      await deliverer.close()
    })
    dispatcher.lookAtPresence(1_000)
    dispatcher.lookAtPresence(2_000) // still there: nothing
    here.pop()
    dispatcher.lookAtPresence(3_000)
    dispatcher.lookAtPresence(4_000) // still gone: nothing more
    await waitFor(() => receiver.got.length >= 1, { what: 'the offline event' })
    const d = receiver.got[0]!
    expect(d.headers['webhook-id']).toBe('station.offline:L3:S1:3000')
    expect(new Webhook(hook.secret).verify(d.body, d.headers as Record<string, string>)).toMatchObject({ type: 'station.offline', data: { line: 'L3', station: 'S1', state: 'offline', since: 3000 } })
    expect((await store.webhooks.deliveries()).map((x) => x.messageId)).toEqual(['station.offline:L3:S1:3000'])
  })
})
