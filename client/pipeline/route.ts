/**
 * Where a frame the prefilter let through is inferred: on the server, in this browser, or nowhere
 * (no side can take it). Pure logic with an injected clock, so the policy is tested by scripting
 * load reports and latencies instead of waiting for them.
 *
 * - `server-only`: always the server (frames captured while it is unreachable are dropped, as the
 *   administrator asked for server inference only);
 * - `browser-preferred`: this browser whenever a local backend works;
 * - `auto`: this browser when the server says it is paused or asks stations to offload, or when the
 *   socket is down; otherwise the side expected to answer sooner, switching only when the other
 *   side has been faster by a margin for several decisions and some time, so that a noisy load
 *   report does not make the station flap between the two.
 */
import type { LoadReport, RoutingPolicy } from '../../shared/domain/load.ts'

export type Side = 'server' | 'browser'

export type RouteReason =
  | 'policy' // server-only / browser-preferred said so
  | 'paused' // the server paused inference
  | 'offload' // the server's scaling asks stations to infer locally
  | 'offline' // the socket is down
  | 'faster' // auto: this side is expected to answer sooner
  | 'no-local' // no local backend works (yet)
  | 'unreachable' // nowhere to go: server down and no local backend

export type RouteDecision = { target: Side; reason: RouteReason } | { target: 'none'; reason: RouteReason }

export interface RouteContext {
  now: number
  /** The line's policy; null before the first welcome. */
  policy: RoutingPolicy | null
  load: LoadReport | null
  serverOnline: boolean
  /** A local backend is initialised and ready to infer. */
  localReady: boolean
  /** Expected local time per frame (prefilter excluded), ms; null when never measured. */
  localMs: number | null
  /** Expected time on the station before the server has the frame (encode + round trip), ms. */
  serverOverheadMs: number | null
}

export interface FrameRouter {
  route(context: RouteContext): RouteDecision
  /** What `auto` would pick right now and why (for the station view). */
  readonly side: Side
}

export interface HysteresisOptions {
  /** The other side must be faster by this fraction of the current side's expected time... */
  marginRatio: number
  /** ...and by at least this many ms. */
  marginMs: number
  /** For this many consecutive decisions... */
  confirmDecisions: number
  /** ...spanning at least this long, ms. */
  confirmMs: number
  /** No switch sooner than this after the previous one, ms. */
  minDwellMs: number
}

export const DEFAULT_HYSTERESIS: HysteresisOptions = {
  marginRatio: 0.2,
  marginMs: 5,
  confirmDecisions: 5,
  confirmMs: 1_000,
  minDwellMs: 3_000,
}

/** What the server path is expected to cost a new frame, ms: what the station spends plus the server's wait and model time. */
export function expectedServerMs(load: LoadReport, overheadMs: number | null): number {
  return (overheadMs ?? 0) + load.estimatedWaitMs + load.serverInferMs
}

export class AdaptiveRouter implements FrameRouter {
  readonly #o: HysteresisOptions
  #side: Side = 'server'
  #since = Number.NEGATIVE_INFINITY
  #challengerCount = 0
  #challengerSince: number | null = null

  constructor(options: Partial<HysteresisOptions> = {}) {
    this.#o = { ...DEFAULT_HYSTERESIS, ...options }
  }

  get side(): Side {
    return this.#side
  }

  route(c: RouteContext): RouteDecision {
    const policy = c.policy ?? c.load?.policy ?? 'auto'
    if (policy === 'server-only') return c.serverOnline ? { target: 'server', reason: 'policy' } : { target: 'none', reason: 'offline' }
    if (!c.localReady) return c.serverOnline ? { target: 'server', reason: 'no-local' } : { target: 'none', reason: 'unreachable' }
    if (policy === 'browser-preferred') return { target: 'browser', reason: 'policy' }
    if (!c.serverOnline) return { target: 'browser', reason: 'offline' }
    if (c.load?.paused) return { target: 'browser', reason: 'paused' }
    if (c.load?.offload) return { target: 'browser', reason: 'offload' }
    return { target: this.#compare(c), reason: 'faster' }
  }

  /** auto, both sides usable: keep the current side unless the other has been clearly faster for a while. */
  #compare(c: RouteContext): Side {
    if (c.localMs === null || c.load === null) return this.#side
    const expected = { browser: c.localMs, server: expectedServerMs(c.load, c.serverOverheadMs) }
    const current = expected[this.#side]
    const other: Side = this.#side === 'server' ? 'browser' : 'server'
    const margin = Math.max(this.#o.marginMs, this.#o.marginRatio * current)
    if (!(expected[other] + margin < current)) {
      this.#challengerCount = 0
      this.#challengerSince = null
      return this.#side
    }
    this.#challengerCount++
    this.#challengerSince ??= c.now
    const confirmed = this.#challengerCount >= this.#o.confirmDecisions && c.now - this.#challengerSince >= this.#o.confirmMs
    if (confirmed && c.now - this.#since >= this.#o.minDwellMs) {
      this.#side = other
      this.#since = c.now
      this.#challengerCount = 0
      this.#challengerSince = null
    }
    return this.#side
  }
}
