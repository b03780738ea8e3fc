/**
 * The live autoscaler: every period it observes, asks the policy, applies the decision through
 * the actuator and sets the offload flag the stations read in their load reports. Ticks never
 * overlap; a failed tick is logged, shown in the state (`error`) and the next one starts afresh.
 */
import type { ScalingSettings, ScalingState } from '../../shared/domain/scaling.ts'
import type { Logger } from '../log.ts'
import type { LoadTracker } from '../metrics/load.ts'
import { ScalingError, type Actuator } from './actuators/types.ts'
import type { Observed } from './observe.ts'
import { ScalingPolicy } from './policy.ts'

export interface SupervisorDeps {
  actuator: Actuator
  observer: { observe(now: number): Promise<Observed> }
  forecast: {
    peakFps(now: number, leadMinutes: number, calendar: ScalingSettings['calendar']): number | undefined
    /** The forecast for the present minute; without it the policy pre-scales for the peak's level. */
    expectedFps?(now: number): number | undefined
  }
  /** Its `offload` flag goes to every station in the load reports. */
  load: Pick<LoadTracker, 'offload'>
  log: Pick<Logger, 'info' | 'warn'>
  periodMs: number
  settings: ScalingSettings
}

const IDLE_RECOMMENDATIONS = { queue: 0, latency: 0, throughput: 0, forecast: 0 }

export class ScalingSupervisor {
  readonly #d: SupervisorDeps
  readonly #policy: ScalingPolicy
  #state: ScalingState
  #timer: ReturnType<typeof setInterval> | undefined
  #ticking: Promise<ScalingState> | undefined
  #closed = false

  constructor(deps: SupervisorDeps) {
    this.#d = deps
    this.#policy = new ScalingPolicy(deps.settings)
    this.#state = {
      enabled: true,
      actuator: deps.actuator.kind,
      current: 0,
      ready: 0,
      desired: 0,
      offload: false,
      reason: 'NotStarted',
      recommendations: IDLE_RECOMMENDATIONS,
      demandFps: 0,
      forecastFps: null,
      at: null,
      error: null,
    }
  }

  get state(): ScalingState {
    return this.#state
  }

  get settings(): ScalingSettings {
    return this.#policy.settings
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#d.periodMs)
    this.#timer.unref()
    void this.tick()
  }

  /** Applies from the next tick; the policy's windows keep their history. */
  update(settings: ScalingSettings): void {
    this.#policy.update(settings)
    this.#d.log.info({ min: settings.minWorkers, max: settings.maxWorkers, predictive: settings.predictive.enabled }, 'scaling: settings applied')
  }

  /** One decision; a tick already running is waited for instead of starting another. */
  tick(now = Date.now()): Promise<ScalingState> {
    if (this.#closed) return Promise.resolve(this.#state)
    this.#ticking ??= this.#tick(now).finally(() => (this.#ticking = undefined))
    return this.#ticking
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#ticking
    // stations must not stay in the browser because a process that set the flag went away
    this.#d.load.offload = false
    await this.#d.actuator.close()
  }

  async #tick(now: number): Promise<ScalingState> {
    const s = this.#policy.settings
    try {
      const { current, ready } = await this.#d.actuator.status()
      const o = await this.#d.observer.observe(now)
      const forecastFps = s.predictive.enabled ? this.#d.forecast.peakFps(now, s.predictive.leadMinutes, s.calendar) : undefined
      const forecastNowFps = forecastFps === undefined ? undefined : this.#d.forecast.expectedFps?.(now)
      const d = this.#policy.decide({ at: now, current, ready, queueDepth: o.queueDepth, p95Ms: o.p95Ms, lines: o.lines, offloadActive: o.offloadActive, forecastFps, forecastNowFps })
      if (d.desired !== current && !this.#closed) {
        await this.#d.actuator.scale(d.desired, { min: s.minWorkers, max: s.maxWorkers })
        this.#policy.scaled(current, d.desired, now)
        this.#d.log.info({ from: current, to: d.desired, reason: d.reason, ...d.recommendations, demandFps: round(d.demandFps), queue: o.queueDepth, p95Ms: round(o.p95Ms) }, 'scaling: workers changed')
      }
      // a dry run (actuator none) reports what offload would be, and leaves the stations alone
      const offload = this.#d.actuator.kind === 'none' ? false : d.offload
      if (this.#d.load.offload !== offload) this.#d.log.info({ offload, desired: d.desired, ready }, offload ? 'scaling: offload on (auto stations infer locally while workers start)' : 'scaling: offload released')
      this.#d.load.offload = offload
      this.#state = {
        ...this.#state,
        current: d.desired === current || this.#closed ? current : d.desired,
        ready,
        desired: d.desired,
        offload: d.offload,
        reason: d.reason,
        recommendations: d.recommendations,
        demandFps: round(d.demandFps),
        forecastFps: forecastFps === undefined ? null : round(forecastFps),
        at: now,
        error: null,
      }
    } catch (err) {
      const e = err instanceof ScalingError ? { code: err.code, message: err.message } : { code: 'internal', message: (err as Error)?.message ?? String(err) }
      this.#d.log.warn({ err: e }, 'scaling: this tick failed; the next one tries again')
      this.#state = { ...this.#state, at: now, error: e }
    }
    return this.#state
  }
}

const round = (v: number) => Math.round(v * 100) / 100
