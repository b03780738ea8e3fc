/**
 * Line settings: read by anyone who may use the line, changed by administrators (audited). A
 * `candidate` in the body, or a `model` change while the line has one, passes the same check as
 * `PUT /api/v1/admin/lines/:line/candidate` (server/candidates/check.ts): 422 `unknown_model` or
 * `classes_differ`, 409 `same_model`.
 */
import { canUseLine, describePrincipal } from '../auth/principal.ts'
import { checkCandidate } from '../candidates/check.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest } from '../errors.ts'
import { ok, type Route } from './types.ts'
import { lineParam } from './query.ts'

export function lineRoutes(core: Core): Route[] {
  return [
    {
      method: 'get',
      pattern: '/api/v1/lines',
      access: 'read',
      handler: (ctx) => ok({ lines: core.settings.list().filter((s) => canUseLine(ctx.principal, s.line)) }),
    },
    {
      method: 'get',
      pattern: '/api/v1/lines/:line/settings',
      access: 'read',
      handler: (ctx) => {
        const line = lineParam(ctx.params.line)
        if (!canUseLine(ctx.principal, line)) throw new HttpError(403, 'forbidden', `this token may not read line ${line}`)
        return ok(core.settings.get(line))
      },
    },
    {
      method: 'put',
      pattern: '/api/v1/lines/:line/settings',
      access: 'admin',
      bodyLimit: 64 * 1024,
      handler: async (ctx) => {
        const line = lineParam(ctx.params.line)
        let patch: unknown
        try {
          patch = JSON.parse(Buffer.from(ctx.body).toString('utf8'))
        } catch {
          throw badRequest('body must be JSON', 'bad_json')
        }
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw badRequest('body must be a JSON object', 'bad_json')
        const model = (patch as { model?: unknown }).model
        if (model !== undefined && (typeof model !== 'string' || core.models.get(model)?.manifest.task !== 'detect')) {
          throw new HttpError(422, 'unknown_model', `model "${(typeof model === 'string' ? model : JSON.stringify(model)).slice(0, 64)}" is not a loaded detector`)
        }
        // a candidate set here, or kept across a model change, passes the candidate route's check
        if ('candidate' in patch || model !== undefined) {
          const current = core.settings.get(line)
          const candidate = 'candidate' in patch ? (patch as { candidate?: unknown }).candidate : current.candidate
          const name = typeof candidate === 'object' && candidate !== null ? (candidate as { model?: unknown }).model : undefined
          if (typeof name === 'string') checkCandidate((n) => core.models.get(n), typeof model === 'string' ? model : current.model, name)
        }
        // an administrator setting up a line makes it: stations may then send frames for it
        await core.store.lines.create(line, describePrincipal(ctx.principal))
        return ok(await core.settings.update(line, patch, describePrincipal(ctx.principal)))
      },
    },
  ]
}
