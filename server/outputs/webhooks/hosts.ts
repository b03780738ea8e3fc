/**
 * Which URLs a webhook may point at. MES endpoints often live on the plant network or the same
 * host, so private and loopback addresses and plain http are accepted; WEBHOOK_ALLOWED_HOSTS
 * narrows that to named hosts. Credentials in the URL are refused: they would show in every
 * listing (the signature authenticates linesight to the receiver instead).
 */
export type UrlCheck = { ok: true; url: string } | { ok: false; message: string }

export function checkWebhookUrl(raw: string, allowedHosts: readonly string[]): UrlCheck {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return { ok: false, message: 'url must be an absolute http:// or https:// URL' }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, message: 'url must be http:// or https://' }
  if (u.username || u.password) return { ok: false, message: 'url must not carry a user name or password (deliveries are signed instead)' }
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (allowedHosts.length && !allowedHosts.some((h) => h.toLowerCase().replace(/^\[|\]$/g, '') === host)) {
    return { ok: false, message: `host ${host} is not in WEBHOOK_ALLOWED_HOSTS` }
  }
  return { ok: true, url: u.toString() }
}
