/** The webhook endpoints of the admin API (server/api/webhooks.ts). */
import { z } from 'zod'
import { requestJson } from '../api/http.ts'

export const WEBHOOK_EVENTS = ['part.failed', 'part.inspected', 'station.offline'] as const

const WebhookSchema = z.object({ id: z.string(), url: z.string(), events: z.array(z.string()), lines: z.array(z.string()), createdAt: z.number(), createdBy: z.string() })
export type WebhookInfo = z.infer<typeof WebhookSchema>
const DeliverySchema = z.object({
  webhookId: z.string(),
  messageId: z.string(),
  event: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number(),
  createdAt: z.number(),
  lastStatus: z.number().optional(),
  lastError: z.string().optional(),
})
export type DeliveryInfo = z.infer<typeof DeliverySchema>

export const listWebhooks = (token: string) => requestJson('GET', '/api/v1/admin/webhooks', z.object({ webhooks: z.array(WebhookSchema) }), token)
export const addWebhook = (token: string, body: { url: string; events: string[]; lines: string[] }) =>
  requestJson('POST', '/api/v1/admin/webhooks', WebhookSchema.extend({ secret: z.string() }), token, body)
export const removeWebhook = (token: string, id: string) => fetch(`/api/v1/admin/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
export const listDeliveries = (token: string, onlyDead: boolean) =>
  requestJson('GET', `/api/v1/admin/webhooks/deliveries?limit=50${onlyDead ? '&status=dead' : ''}`, z.object({ deliveries: z.array(DeliverySchema) }), token)
export const resendDelivery = (token: string, d: Pick<DeliveryInfo, 'webhookId' | 'messageId'>) =>
  requestJson('POST', '/api/v1/admin/webhooks/deliveries/resend', z.object({ status: z.string() }), token, { webhookId: d.webhookId, messageId: d.messageId })
