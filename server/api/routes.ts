import { join } from 'node:path'
import type { Core } from '../core.ts'
import { accessTableRoute } from '../auth/access-table.ts'
import { preflightRoutes } from '../auth/cors.ts'
import { adminRoutes } from './admin.ts'
import { auditRoutes } from './audit.ts'
import { candidateRoutes } from './candidates.ts'
import { datasetRoutes } from './datasets.ts'
import { deadLetterRoutes } from './dead-letters.ts'
import { deviceRoutes } from './devices.ts'
import { detectRoutes } from './detect.ts'
import { healthRoutes } from './health.ts'
import { jobRoutes } from './jobs.ts'
import { lineRoutes } from './lines.ts'
import { modelRoutes } from './models.ts'
import { modelAdminRoutes } from './models-admin.ts'
import { partRoutes } from './parts.ts'
import { resultRoutes } from './results.ts'
import { reviewRoutes } from './review.ts'
import { sampleRoutes } from './samples.ts'
import { scalingRoutes } from './scaling.ts'
import { StaticFiles } from './static-files.ts'
import { tokenRoutes } from './tokens.ts'
import { json, type Route } from './types.ts'
import { uploadRoutes } from './uploads.ts'
import { webhookRoutes } from './webhooks.ts'

/** Every HTTP route of the gateway, in one table. */
export function allRoutes(core: Core, clientDir: string | undefined): Route[] {
  const routes = [
    ...healthRoutes(core),
    ...detectRoutes(core),
    ...resultRoutes(core),
    ...reviewRoutes(core),
    ...datasetRoutes(core),
    ...candidateRoutes(core),
    ...partRoutes(core),
    ...lineRoutes(core),
    ...modelRoutes(core),
    ...sampleRoutes(core),
    ...adminRoutes(core),
    ...deadLetterRoutes(core),
    ...modelAdminRoutes(core),
    ...uploadRoutes(core),
    ...jobRoutes(core),
    ...tokenRoutes(core),
    ...deviceRoutes(core),
    ...auditRoutes(core),
    ...scalingRoutes(core),
    ...webhookRoutes(core),
    ...preflightRoutes(core.config),
  ]
  routes.push({ method: 'any', pattern: '/api/*', access: 'public', handler: (ctx) => json(404, { error: { code: 'not_found', message: `no route ${ctx.method} ${ctx.path.slice(0, 200)}` } }) })
  if (clientDir) {
    const files = new StaticFiles(clientDir, { dir: join(core.config.dataDir, 'compressed') })
    routes.push({ method: 'get', pattern: '/*', access: 'public', handler: (ctx) => files.serve(ctx) })
  }
  routes.push(accessTableRoute(routes))
  return routes
}
