/**
 * Autoscaling for administrators (settings, live state, what-if replay) and the recorded load
 * for the status page. The settings are validated with shared/domain/scaling.ts, saved through
 * the settings store (audited: `settings.put` on key `scaling`) and applied live.
 */
import { WhatIfRequestSchema } from '../../shared/domain/scaling.ts'
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError } from '../errors.ts'
import { scalingFor } from '../scaling/index.ts'
import { jsonBody } from './body.ts'
import { lineParam, queryTime } from './query.ts'
import { ok, type Route } from './types.ts'

const BODY_LIMIT = 64 * 1024
/** A what-if may carry a load trace (2 MB of CSV at most, WhatIfRequestSchema) besides the settings. */
const WHAT_IF_BODY_LIMIT = 2 * 1024 * 1024 + BODY_LIMIT
const HOUR_MS = 3_600_000

export function scalingRoutes(core: Core): Route[] {
  const scaling = scalingFor(core)
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/scaling',
      access: 'admin',
      handler: async () => {
        await scaling.ready
        return ok(scaling.doc())
      },
    },
    {
      method: 'put',
      pattern: '/api/v1/admin/scaling',
      access: 'admin',
      bodyLimit: BODY_LIMIT,
      handler: async (ctx) => ok(await scaling.save(jsonBody(ctx.body), describePrincipal(ctx.principal))),
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/scaling/what-if',
      access: 'admin',
      bodyLimit: WHAT_IF_BODY_LIMIT,
      handler: async (ctx) => {
        const parsed = WhatIfRequestSchema.safeParse(jsonBody(ctx.body))
        if (!parsed.success) throw new HttpError(422, 'invalid_settings', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '))
        return ok(await scaling.whatIf(parsed.data))
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/status/history',
      access: 'read',
      handler: async (ctx) => {
        const to = queryTime(ctx.query, 'to') ?? Date.now()
        const from = queryTime(ctx.query, 'from') ?? to - HOUR_MS
        const line = ctx.query.get('line') ? lineParam(ctx.query.get('line')) : undefined
        // all lines together would show a line-scoped token the others' load
        if (line === undefined && ctx.principal.lines !== '*') throw new HttpError(403, 'forbidden', 'this token may read only its own lines: pass "line"')
        return ok(await scaling.history({ from, to, line }))
      },
    },
  ]
}
