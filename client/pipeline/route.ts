/**
 * Where a captured frame goes. Today every frame goes to the server; the browser-inference step
 * adds a router that reads the line's policy (server-only / auto / browser-preferred), the server's
 * load report and the local backend, and may answer 'browser' (infer in the worker, send a
 * browser-result) or 'skip' (the prefilter said unchanged/blur/exposure/empty).
 */
import type { LoadReport } from '../../shared/domain/load.ts'
import type { LineSettings } from '../../shared/domain/settings.ts'
import type { SkipReason } from '../../shared/protocol/messages/skips.ts'

export type RouteDecision = { target: 'server' } | { target: 'browser'; reason: string } | { target: 'skip'; reason: SkipReason }

export interface RouteContext {
  settings: LineSettings | null
  load: LoadReport | null
  serverOnline: boolean
}

export interface FrameRouter {
  route(context: RouteContext): RouteDecision
}

export const serverOnlyRouter: FrameRouter = {
  route: () => ({ target: 'server' }),
}
