/**
 * Who may call what, as this server is built: every HTTP route with its access level, and the two
 * WebSocket routes. For administrators checking a deployment, and for the authorization test,
 * which walks this table so that a route added later cannot be left out of it.
 */
import { ok, type Access, type Route } from '../api/types.ts'

export interface AccessEntry {
  method: string
  pattern: string
  access: Access
}

/** Registered by server/gateway/ws.ts, outside the route table. */
export const WEBSOCKET_ACCESS: readonly AccessEntry[] = [
  { method: 'ws', pattern: '/ws/station', access: 'station' },
  { method: 'ws', pattern: '/ws/kiosk', access: 'read' },
]

/** `routes` is read when asked, so it lists routes added after this one too (itself included). */
export function accessTableRoute(routes: readonly Route[]): Route {
  return {
    method: 'get',
    pattern: '/api/v1/admin/access',
    access: 'admin',
    handler: () =>
      ok({
        routes: routes.map((r) => ({ method: r.method === 'del' ? 'delete' : r.method, pattern: r.pattern, access: r.access })),
        websockets: WEBSOCKET_ACCESS,
      }),
  }
}
