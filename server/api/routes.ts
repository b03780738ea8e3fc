import type { Core } from '../core.ts'
import { adminRoutes } from './admin.ts'
import { detectRoutes } from './detect.ts'
import { healthRoutes } from './health.ts'
import { lineRoutes } from './lines.ts'
import { modelRoutes } from './models.ts'
import { modelAdminRoutes } from './models-admin.ts'
import { resultRoutes } from './results.ts'
import { sampleRoutes } from './samples.ts'
import { StaticFiles } from './static-files.ts'
import { json, type Route } from './types.ts'

/** Every HTTP route of the gateway, in one table. */
export function allRoutes(core: Core, clientDir: string | undefined): Route[] {
  const routes = [
    ...healthRoutes(core),
    ...detectRoutes(core),
    ...resultRoutes(core),
    ...lineRoutes(core),
    ...modelRoutes(core),
    ...sampleRoutes(core),
    ...adminRoutes(core),
    ...modelAdminRoutes(core),
  ]
  routes.push({ method: 'any', pattern: '/api/*', access: 'public', handler: (ctx) => json(404, { error: { code: 'not_found', message: `no route ${ctx.method} ${ctx.path.slice(0, 200)}` } }) })
  if (clientDir) {
    const files = new StaticFiles(clientDir)
    routes.push({ method: 'get', pattern: '/*', access: 'public', handler: (ctx) => files.serve(ctx) })
  }
  return routes
}
