/**
 * The one scaling policy: observed load and a forecast in, a worker count and the offload flag
 * out. Used by the live supervisor, the backtest and the what-if replay alike, so what the admin
 * replays is what will run.
 *
 * Each metric recommends a count the way an HPA metric does (and, as with several HPA metrics,
 * the largest wins):
 *  - queue: frames waiting in the live queue / `target.queuePerWorker` (HPA AverageValue, with
 *    its tolerance: within it, the current count);
 *  - throughput: demand frames/s / (capacity x utilization) (AverageValue, same tolerance);
 *  - latency: p95 above `target.p95Ms` grows the count in proportion (HPA Utilization). A p95
 *    below target recommends nothing: a fast p95 on a quiet line says nothing about how few
 *    workers would do, so it never scales in;
 *  - forecast: only where it pays. Reactive scaling follows any ramp that the workers already
 *    asked for can carry at full capacity until new ones have started (the lead time covers the
 *    start time); a forecast that stays within that recommends nothing, so a smooth daily curve
 *    costs no pre-scaled worker-minutes. Where the forecast ramp outruns it (a shift-start
 *    burst), the projected demand (observed demand + the forecast's rise from now to its peak
 *    over the lead; the peak alone when the forecast's present is unknown) with headroom is
 *    asked for. The rise, not the forecast's level, is what is added, so a day quieter than
 *    the forecast expects does not pre-scale for the load it does not have. It only raises the
 *    floor (like AWS predictive scaling): in the max it can never lower what the observed load
 *    asks for, so no scale-in ever happens on a forecast alone.
 * The max then goes through the HPA behavior (hpa.ts): windows, rate policies, min/max.
 *
 * Offload: while the workers asked for are not all serving yet (desired > ready), or the load
 * asks for more than maxWorkers, `offload` is true and `auto` stations infer in their browsers.
 *
 * Pure and deterministic: the clock is `Observation.at`.
 */
import type { Recommendations, ScalingReason, ScalingSettings } from '../../shared/domain/scaling.ts'
import { HpaBehavior } from './hpa.ts'

export interface LineLoad {
  line: string
  /** Frames/s that reached the server (sent by stations, HTTP, uploads). */
  serverFps: number
  /** Frames/s inferred in browsers and reported. */
  browserFps: number
}

export interface Observation {
  /** ms; the policy's only clock. */
  at: number
  /** Workers asked for (HPA: spec.replicas). */
  current: number
  /** Workers serving frames. */
  ready: number
  /** Live frames waiting. */
  queueDepth: number
  /** p95 server latency, ms (0: no frames). */
  p95Ms: number
  lines: readonly LineLoad[]
  /** Whether offload was on during the observed window (its browser frames are then demand too). */
  offloadActive: boolean
  /** Forecast peak demand over the lead time, frames/s; undefined when predictive is off or has no data. */
  forecastFps?: number | undefined
  /** The forecast for the present minute, frames/s: `forecastFps` minus it is the ramp ahead. */
  forecastNowFps?: number | undefined
}

export interface Decision {
  desired: number
  offload: boolean
  reason: ScalingReason
  recommendations: Recommendations
  /** Demand the throughput metric used, frames/s. */
  demandFps: number
}

export class ScalingPolicy {
  readonly #behavior = new HpaBehavior()
  #settings: ScalingSettings

  constructor(settings: ScalingSettings) {
    this.#settings = settings
  }

  get settings(): ScalingSettings {
    return this.#settings
  }

  /** New settings apply from the next decision; the windows' history is kept. */
  update(settings: ScalingSettings): void {
    this.#settings = settings
  }

  decide(o: Observation): Decision {
    const s = this.#settings
    const demandFps = demand(o)
    const rec: Recommendations = {
      queue: averageValue(o.queueDepth, s.target.queuePerWorker, o.current, s.tolerance),
      throughput: averageValue(demandFps, s.workerCapacityFps * s.target.utilization, o.current, s.tolerance),
      latency: latency(o.p95Ms, s.target.p95Ms, o.current, s.tolerance),
      forecast: 0,
    }
    // not the current count: workers the forecast itself asked for must not switch it off
    rec.forecast = forecastRecommendation(o, s, demandFps, Math.max(s.minWorkers, rec.queue, rec.throughput, rec.latency))
    const raw = Math.max(rec.queue, rec.throughput, rec.latency, rec.forecast)
    const offloadWanted = (want: number) => s.offload.enabled && (want > o.ready || raw > s.maxWorkers)

    // HPA: a count outside the bounds (bounds just changed) goes straight to the bound.
    if (o.current > s.maxWorkers) return this.#done(s.maxWorkers, 'TooManyReplicas', rec, demandFps, offloadWanted)
    if (o.current < s.minWorkers) return this.#done(s.minWorkers, 'TooFewReplicas', rec, demandFps, offloadWanted)
    const out = this.#behavior.next({ now: o.at, current: o.current, desired: raw, min: s.minWorkers, max: s.maxWorkers, scaleUp: s.scaleUp, scaleDown: s.scaleDown })
    return this.#done(out.replicas, out.reason, rec, demandFps, offloadWanted)
  }

  /** Tell the policy a change was applied, so the rate policies count it. */
  scaled(from: number, to: number, at: number): void {
    this.#behavior.scaled(from, to, at)
    this.#behavior.prune(at, this.#settings.scaleUp, this.#settings.scaleDown)
  }

  #done(desired: number, reason: ScalingReason, rec: Recommendations, demandFps: number, offload: (want: number) => boolean): Decision {
    return { desired, offload: offload(desired), reason, recommendations: rec, demandFps }
  }
}

/**
 * Frames/s the workers must serve: what reached the server, plus what browsers inferred only
 * because offload sent them there (they come back once it is released).
 */
export function demand(o: Pick<Observation, 'lines' | 'offloadActive'>): number {
  let fps = 0
  for (const l of o.lines) fps += l.serverFps + (o.offloadActive ? l.browserFps : 0)
  return fps
}

/**
 * Workers to pre-scale for the forecast, 0 when reactive scaling can follow: the projected demand
 * fits in the `reactive` workers at full capacity (the share above `utilization` is what carries
 * a ramp while new workers start).
 */
export function forecastRecommendation(o: Pick<Observation, 'forecastFps' | 'forecastNowFps'>, s: ScalingSettings, demandFps: number, reactive: number): number {
  if (!s.predictive.enabled || o.forecastFps === undefined) return 0
  const projected = o.forecastNowFps === undefined ? o.forecastFps : demandFps + Math.max(0, o.forecastFps - o.forecastNowFps)
  if (projected <= reactive * s.workerCapacityFps + 1e-9) return 0
  return Math.ceil((projected * s.predictive.headroom) / (s.workerCapacityFps * s.target.utilization) - 1e-9)
}

/** HPA AverageValue: ceil(total / target per pod), or the current count within tolerance. */
function averageValue(total: number, perWorker: number, current: number, tolerance: number): number {
  if (current > 0 && Math.abs(total / (perWorker * current) - 1) <= tolerance) return current
  // the epsilon keeps an exact multiple (e.g. 30 / 10) from rounding up on float noise
  return Math.max(0, Math.ceil(total / perWorker - 1e-9))
}

/** HPA Utilization, scale-up only: ceil(current x p95 / target) once above target + tolerance. */
function latency(p95Ms: number, targetMs: number, current: number, tolerance: number): number {
  const ratio = p95Ms / targetMs
  if (ratio <= 1 + tolerance) return 0
  return Math.ceil(Math.max(1, current) * ratio - 1e-9)
}
