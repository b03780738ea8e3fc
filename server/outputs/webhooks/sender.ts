/**
 * One signed POST. Headers in the Standard Webhooks style (standardwebhooks package):
 * `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature` `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`; a receiver verifies with the secret it was shown once.
 */
import { Webhook } from 'standardwebhooks'

export interface SendOutcome {
  delivered: boolean
  status?: number
  error?: string
}

export function signedHeaders(secret: string, messageId: string, payload: string, at = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, payload),
    'user-agent': 'linesight-webhooks',
  }
}

export async function send(url: string, secret: string, messageId: string, payload: string, timeoutMs: number): Promise<SendOutcome> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: signedHeaders(secret, messageId, payload),
      body: payload,
      // a redirect could carry a signed event somewhere nobody configured
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    await res.body?.cancel()
    if (res.status >= 200 && res.status < 300) return { delivered: true, status: res.status }
    return { delivered: false, status: res.status, error: `HTTP ${res.status}` }
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    return { delivered: false, error: cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)) }
  }
}
