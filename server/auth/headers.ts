/**
 * Security headers on every reply. The Content-Security-Policy is as tight as the app allows:
 * onnxruntime-web compiles WebAssembly (`'wasm-unsafe-eval'`) and runs in workers that may be
 * started from blob: URLs; WebGPU needs nothing more. Vue binds `style` attributes, hence inline
 * styles; no inline script is allowed. Nobody may frame the app (clickjacking an admin page).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss: blob: data:",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** A revoked device's sockets close with this code (application range) and a reason it shows. */
export const REVOKED_CLOSE_CODE = 4001
export const REVOKED_REASON = 'This tablet is no longer paired — ask an administrator'

export function securityHeaders(secure: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'content-security-policy': CSP,
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    // HTTPS only: over plain HTTP the header is ignored, and localhost must stay reachable over it
    ...(secure ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  }
}
