/** Administration: pause/resume taking frames off the queue (maintenance, draining, tests). */
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError } from '../errors.ts'
import { ok, type Route } from './types.ts'

export function adminRoutes(core: Core): Route[] {
  const processor = () => {
    if (!core.processor) throw new HttpError(409, 'no_inference', 'this process runs no inference (LINESIGHT_ROLE=gateway)')
    return core.processor
  }
  return [
    {
      method: 'post',
      pattern: '/api/v1/admin/inference/pause',
      access: 'admin',
      handler: async (ctx) => {
        const before = processor().paused
        await processor().pause()
        await core.store.audit.append({ actor: describePrincipal(ctx.principal), action: 'inference.pause', target: 'inference', before: { paused: before }, after: { paused: true } })
        core.load.paused = true
        core.log.info('inference paused by an administrator; frames keep queueing')
        return ok({ paused: true })
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/inference/resume',
      access: 'admin',
      handler: async (ctx) => {
        const before = processor().paused
        await processor().resume()
        await core.store.audit.append({ actor: describePrincipal(ctx.principal), action: 'inference.resume', target: 'inference', before: { paused: before }, after: { paused: false } })
        core.load.paused = false
        core.log.info('inference resumed')
        return ok({ paused: false })
      },
    },
  ]
}
