/**
 * Webhook endpoints, for administrators: add one (its signing secret is in the reply and never
 * again), list, remove; see recent deliveries (or the dead-lettered ones) and re-send one.
 * Limits: body 16 KiB; url at most 2000 characters, http(s) only, no credentials in it, a host
 * in WEBHOOK_ALLOWED_HOSTS when that is set; up to 1000 lines.
 */
import { z } from 'zod'
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { badRequest, notFound } from '../errors.ts'
import { checkWebhookUrl } from '../outputs/webhooks/hosts.ts'
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, withoutSecret, type DeliveryStatus } from '../storage/webhooks.ts'
import { StorageError } from '../storage/errors.ts'
import { parseBody } from './body.ts'
import { json, ok, type Route } from './types.ts'

const NewWebhookBody = z.strictObject({
  url: z.string().min(1).max(2000),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  lines: z.array(z.string().max(64)).max(1000).optional(),
})

const ResendBody = z.strictObject({ webhookId: z.string().min(1).max(64), messageId: z.string().min(1).max(200) })

export function webhookRoutes(core: Core): Route[] {
  // read when a request comes: building the route table needs no store (the authz test lists it)
  const store = () => core.store.webhooks
  const changed = () => core.outputs?.webhooks.refresh()
  return [
    {
      method: 'post',
      pattern: '/api/v1/admin/webhooks',
      access: 'admin',
      bodyLimit: 16 * 1024,
      handler: async (ctx) => {
        const body = parseBody(NewWebhookBody, ctx.body, 'invalid_webhook')
        const url = checkWebhookUrl(body.url, core.config.webhookAllowedHosts)
        if (!url.ok) throw badRequest(url.message, 'invalid_webhook')
        const actor = describePrincipal(ctx.principal)
        try {
          const created = await store().create({ url: url.url, events: body.events, lines: body.lines ?? [], createdBy: actor })
          const webhook = withoutSecret(created)
          await core.store.audit.append({ actor, action: 'webhook.create', target: webhook.id, before: null, after: webhook })
          await changed()
          // the only time the secret leaves the server: it must not sit in a cache
          return json(201, { ...webhook, secret: created.secret }, { 'cache-control': 'no-store' })
        } catch (err) {
          if (err instanceof StorageError && err.code === 'invalid') throw badRequest(err.message, 'invalid_webhook')
          throw err
        }
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/admin/webhooks',
      access: 'admin',
      handler: async () => ok({ webhooks: await store().list() }),
    },
    {
      method: 'del',
      pattern: '/api/v1/admin/webhooks/:id',
      access: 'admin',
      handler: async (ctx) => {
        const id = ctx.params.id ?? ''
        const before = (await store().list()).find((w) => w.id === id)
        if (!before || !(await store().remove(id))) throw notFound(`no webhook ${id.slice(0, 64)}`)
        await core.store.audit.append({ actor: describePrincipal(ctx.principal), action: 'webhook.delete', target: id, before, after: null })
        await changed()
        return { status: 204 }
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/admin/webhooks/deliveries',
      access: 'admin',
      handler: async (ctx) => {
        const status = ctx.query.get('status')
        if (status !== null && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) throw badRequest(`"status" must be one of ${DELIVERY_STATUSES.join(', ')}`, 'bad_status')
        const limit = ctx.query.get('limit')
        const n = limit === null ? 100 : Number(limit)
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw badRequest('"limit" must be an integer 1-1000', 'bad_limit')
        const webhookId = ctx.query.get('webhook')
        const deliveries = await store().deliveries({ limit: n, ...(status !== null ? { status: status as DeliveryStatus } : {}), ...(webhookId !== null ? { webhookId } : {}) })
        return ok({ deliveries })
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/webhooks/deliveries/resend',
      access: 'admin',
      bodyLimit: 4 * 1024,
      handler: async (ctx) => {
        const { webhookId, messageId } = parseBody(ResendBody, ctx.body, 'invalid_resend')
        if (!(await store().resend(webhookId, messageId))) throw notFound(`no delivery ${messageId.slice(0, 200)} for webhook ${webhookId}`)
        await core.store.audit.append({ actor: describePrincipal(ctx.principal), action: 'webhook.resend', target: `${webhookId}/${messageId}`, before: null, after: null })
        core.outputs?.deliverer.poke()
        return json(202, { webhookId, messageId, status: 'pending' })
      },
    },
  ]
}
