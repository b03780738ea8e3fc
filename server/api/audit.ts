/** The audit log, newest first: who changed what, when, with the value before and after. */
import type { Core } from '../core.ts'
import { badRequest } from '../errors.ts'
import { StorageError } from '../storage/errors.ts'
import { ok, type Route } from './types.ts'

function time(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(n)) throw badRequest(`"${name}" must be ms since the epoch or an ISO date`, 'bad_time')
  return n
}

export function auditRoutes(core: Core): Route[] {
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/audit',
      access: 'admin',
      handler: async (ctx) => {
        const q = ctx.query
        const from = time(q.get('from'), 'from')
        const to = time(q.get('to'), 'to')
        const limitRaw = q.get('limit')
        const limit = limitRaw === null ? undefined : Number(limitRaw)
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) throw badRequest('"limit" must be an integer 1-1000', 'bad_limit')
        const cursor = q.get('cursor')
        try {
          return ok(
            await core.store.audit.list({
              ...(from !== undefined ? { from } : {}),
              ...(to !== undefined ? { to } : {}),
              ...(limit !== undefined ? { limit } : {}),
              ...(cursor ? { cursor: cursor.slice(0, 200) } : {}),
            }),
          )
        } catch (err) {
          if (err instanceof StorageError && (err.code === 'bad_cursor' || err.code === 'invalid')) throw badRequest(err.message, err.code)
          throw err
        }
      },
    },
  ]
}
