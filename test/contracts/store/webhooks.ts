/**
 * Webhook endpoints and their outbox: one delivery per endpoint and message, claimed by one
 * process at a time, retried, dead-lettered, re-sent.
 */
import { describe, expect, it } from 'vitest'
import { useDatabase, type TestDatabaseFactory } from './fixtures.ts'

export function webhooksContract(factory: TestDatabaseFactory): void {
  describe('webhooks', () => {
    const h = useDatabase(factory)
    const newHook = () => h.store.webhooks.create({ url: 'http://10.0.0.5/mes', events: ['part.failed'], lines: ['line-a'], createdBy: 'admin:tok-1' })

    it('keeps the secret out of listings', async () => {
      const w = await newHook()
      expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/)
      const [listed] = await h.store.webhooks.list()
      expect(listed).toEqual({ id: w.id, url: 'http://10.0.0.5/mes', events: ['part.failed'], lines: ['line-a'], createdAt: w.createdAt, createdBy: 'admin:tok-1' })
      expect(JSON.stringify(await h.store.webhooks.list())).not.toContain(w.secret)
      expect((await h.store.webhooks.withSecrets())[0]?.secret).toBe(w.secret)
    })

    it('refuses unknown events and bad lines', async () => {
      await expect(h.store.webhooks.create({ url: 'http://x', events: ['part.exploded' as 'part.failed'], createdBy: 'a' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.webhooks.create({ url: 'http://x', events: [], createdBy: 'a' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.webhooks.create({ url: 'http://x', events: ['part.failed'], lines: ['no spaces'], createdBy: 'a' })).rejects.toMatchObject({ code: 'invalid' })
    })

    it('queues a message once per endpoint however often it is reported', async () => {
      const w = await newHook()
      const msg = { webhookId: w.id, messageId: 'part.failed:P#1/2', event: 'part.failed' as const, payload: '{"a":1}' }
      expect(await h.store.webhooks.enqueue(msg)).toBe(true)
      expect(await h.store.webhooks.enqueue({ ...msg, payload: '{"a":2}' })).toBe(false)
      const due = await h.store.webhooks.due(Date.now() + 1, 10)
      expect(due.map((d) => [d.messageId, d.payload, d.status, d.attempts])).toEqual([['part.failed:P#1/2', '{"a":1}', 'pending', 0]])
    })

    it('lets one of two processes claim a due delivery', async () => {
      const w = await newHook()
      await h.store.webhooks.enqueue({ webhookId: w.id, messageId: 'm1', event: 'part.failed', payload: '{}' })
      const other = await h.another()
      const [d] = await h.store.webhooks.due(Date.now() + 1, 10)
      const claims = await Promise.all([h.store.webhooks.claim(d!, Date.now() + 60_000), other.webhooks.claim(d!, Date.now() + 60_000)])
      expect(claims.filter(Boolean)).toHaveLength(1)
      expect(await h.store.webhooks.due(Date.now() + 1, 10)).toEqual([])
    })

    it('retries, dead-letters after the last attempt, and re-sends on request', async () => {
      const w = await newHook()
      await h.store.webhooks.enqueue({ webhookId: w.id, messageId: 'm1', event: 'part.failed', payload: '{}' })
      const ref = { webhookId: w.id, messageId: 'm1' }
      await h.store.webhooks.attempted(ref, { delivered: false, status: 503, error: 'HTTP 503', nextAt: Date.now() - 1 })
      expect((await h.store.webhooks.due(Date.now(), 10))[0]).toMatchObject({ attempts: 1, lastStatus: 503, lastError: 'HTTP 503', status: 'pending' })
      await h.store.webhooks.attempted(ref, { delivered: false, error: 'ECONNREFUSED', nextAt: null })
      expect(await h.store.webhooks.due(Date.now() + 1, 10)).toEqual([])
      expect((await h.store.webhooks.deliveries({ status: 'dead' })).map((d) => [d.messageId, d.attempts, d.lastError])).toEqual([['m1', 2, 'ECONNREFUSED']])
      expect(await h.store.webhooks.resend(w.id, 'm1')).toBe(true)
      expect(await h.store.webhooks.resend(w.id, 'nope')).toBe(false)
      await h.store.webhooks.attempted(ref, { delivered: true, status: 204, nextAt: null })
      expect((await h.store.webhooks.deliveries())[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatus: 204 })
    })

    it('removes an endpoint with its outbox', async () => {
      const w = await newHook()
      await h.store.webhooks.enqueue({ webhookId: w.id, messageId: 'm1', event: 'part.failed', payload: '{}' })
      expect(await h.store.webhooks.remove(w.id)).toBe(true)
      expect(await h.store.webhooks.remove(w.id)).toBe(false)
      expect(await h.store.webhooks.deliveries()).toEqual([])
    })
  })
}
