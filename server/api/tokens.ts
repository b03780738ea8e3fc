/**
 * Administration of access tokens. A new token's secret is in the reply to its creation and
 * nowhere else (the store keeps its hash). Creating and revoking are audited by the token store,
 * in the same transaction as the change.
 */
import { z } from 'zod'
import { isId } from '../../shared/domain/ids.ts'
import { REVOKED_REASON } from '../auth/headers.ts'
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import { StorageError } from '../storage/errors.ts'
import { TOKEN_ROLES } from '../storage/tokens.ts'
import { parseBody } from './body.ts'
import { json, ok, type Route } from './types.ts'

const NewTokenBody = z.strictObject({
  role: z.enum(TOKEN_ROLES as [string, ...string[]]),
  lines: z.array(z.string().max(64)).max(1000).optional(),
  label: z.string().min(1).max(100),
})

export function tokenRoutes(core: Core): Route[] {
  const store = () => core.store.tokens
  return [
    {
      method: 'post',
      pattern: '/api/v1/admin/tokens',
      access: 'admin',
      bodyLimit: 16 * 1024,
      handler: async (ctx) => {
        const body = parseBody(NewTokenBody, ctx.body, 'invalid_token')
        const { role, lines, label } = body
        try {
          const { secret, token } = await store().createToken({ role: role as (typeof TOKEN_ROLES)[number], lines: lines ?? [], label, createdBy: describePrincipal(ctx.principal) })
          // an administrator naming a line makes it
          for (const line of token.lines) await core.store.lines.create(line, describePrincipal(ctx.principal))
          core.log.info({ token: token.id, role, lines: token.lines, by: describePrincipal(ctx.principal) }, 'token created')
          // the only time the secret leaves the server: it must not sit in a cache
          return json(201, { secret, token }, { 'cache-control': 'no-store' })
        } catch (err) {
          if (err instanceof StorageError && err.code === 'invalid') throw badRequest(err.message, 'invalid_token')
          throw err
        }
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/admin/tokens',
      access: 'admin',
      handler: async () => ok({ tokens: await store().list() }),
    },
    {
      method: 'del',
      pattern: '/api/v1/admin/tokens/:id',
      access: 'admin',
      handler: async (ctx) => {
        const id = ctx.params.id ?? ''
        if (!isId(id)) throw badRequest('token id must be an id', 'bad_token_id')
        const all = await store().list()
        const token = all.find((t) => t.id === id)
        if (!token || token.revokedAt !== undefined) throw notFound(`no active token ${id}`)
        // revoking the last admin token would lock every administrator out for good
        if (token.role === 'admin' && all.filter((t) => t.role === 'admin' && t.revokedAt === undefined).length === 1) {
          throw new HttpError(409, 'last_admin', 'this is the last active admin token; create another admin token before revoking it')
        }
        if (!(await store().revoke(id, describePrincipal(ctx.principal)))) throw notFound(`no active token ${id}`)
        const closed = core.closeSockets?.(id, REVOKED_REASON) ?? 0
        core.log.info({ token: id, by: describePrincipal(ctx.principal), socketsClosed: closed }, 'token revoked')
        return { status: 204 }
      },
    },
  ]
}
