/**
 * Model versions for administrators: what serves, what drains, and loading a new version of a
 * model folder (verified, warmed up, swapped in atomically; a failure leaves the old one serving).
 */
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError } from '../errors.ts'
import { ModelLoadError } from '../inference/types.ts'
import { ok, type Route } from './types.ts'

export function modelAdminRoutes(core: Core): Route[] {
  const engine = () => {
    if (!core.engine) throw new HttpError(409, 'no_inference', 'this process runs no inference (LINESIGHT_ROLE=gateway); reload on the workers')
    return core.engine
  }
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/models',
      access: 'admin',
      handler: () => ok({ versions: engine().versions(), catalogErrors: core.models.errors }),
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/models/:name/reload',
      access: 'admin',
      handler: async (ctx) => {
        const name = ctx.params.name ?? ''
        if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) throw new HttpError(400, 'bad_model', 'model names are lowercase letters, digits, _ and -')
        const before = engine().models().find((m) => m.name === name)
        try {
          const loaded = await engine().reload(name)
          await core.models.refresh()
          await core.store.audit.append({
            actor: describePrincipal(ctx.principal),
            action: 'model.reload',
            target: name,
            before: before ? { version: before.version, sha256: before.sha256 } : null,
            after: { version: loaded.version, sha256: loaded.sha256, ep: loaded.ep },
          })
          return ok({ name: loaded.name, version: loaded.version, sha256: loaded.sha256, ep: loaded.ep })
        } catch (err) {
          if (err instanceof ModelLoadError) throw new HttpError(422, err.code, err.message)
          throw err
        }
      },
    },
  ]
}
