/** The audit log, newest first: who changed what, when, with the value before and after. */
import type { Core } from '../core.ts'
import { queryCursor, queryLimit, queryTime } from './query.ts'
import { ok, type Route } from './types.ts'

export function auditRoutes(core: Core): Route[] {
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/audit',
      access: 'admin',
      handler: async (ctx) => {
        const q = ctx.query
        const from = queryTime(q, 'from')
        const to = queryTime(q, 'to')
        const limit = queryLimit(q)
        const cursor = queryCursor(q)
        // a cursor or range the store refuses is a StorageError: 400 by server/api/statuses.ts
        return ok(
          await core.store.audit.list({
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
            ...(limit !== undefined ? { limit } : {}),
            ...(cursor ? { cursor } : {}),
          }),
        )
      },
    },
  ]
}
