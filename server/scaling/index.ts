/**
 * Autoscaling, wired into one process: `startScaling(core)` (called once by server/app.ts)
 * starts the load-history recorder, reads the saved scaling settings and, with SCALING_ENABLED,
 * the supervisor. `scalingFor(core)` is what the HTTP routes use.
 */
import type { ScalingDoc, ScalingSettings, ScalingState, WhatIfRequest, WhatIfResult } from '../../shared/domain/scaling.ts'
import type { Core } from '../core.ts'
import { createActuator } from './actuators/index.ts'
import { ScalingError } from './actuators/types.ts'
import { defaultScalingSettings } from './defaults.ts'
import { LiveForecast } from './live-forecast.ts'
import { LoadRecorder } from './load-recorder.ts'
import { LiveObserver } from './observe.ts'
import { ScalingSettingsDoc } from './settings-doc.ts'
import { statusHistory, type HistoryQuery } from './status-history.ts'
import { ScalingSupervisor } from './supervisor.ts'
import { whatIf } from './what-if.ts'

export interface Scaling {
  doc(): ScalingDoc
  save(value: unknown, actor: string): Promise<ScalingDoc>
  whatIf(req: WhatIfRequest): Promise<WhatIfResult>
  history(q: HistoryQuery): ReturnType<typeof statusHistory>
  /** Resolves once the saved settings were read (the routes wait for it). */
  ready: Promise<void>
  close(): Promise<void>
}

const started = new WeakMap<Core, Scaling>()

export function scalingFor(core: Core): Scaling {
  let s = started.get(core)
  if (!s) {
    s = build(core)
    started.set(core, s)
  }
  return s
}

/** Starts recording and (with SCALING_ENABLED) scaling; `close()` stops both, flushing the last minute. */
export function startScaling(core: Core): Scaling {
  return scalingFor(core)
}

function build(core: Core): Scaling {
  const c = core.config
  const log = core.log.child({ component: 'scaling' })
  const doc = new ScalingSettingsDoc(core.store.settings, defaultScalingSettings(c), log)
  const recorder = new LoadRecorder({ metrics: core.metrics, load: core.load, history: core.store.loadHistory, log, flushMs: c.loadHistoryFlushMs, retentionDays: c.loadHistoryRetentionDays })
  let supervisor: ScalingSupervisor | undefined
  let inactive: ScalingState['error'] = null

  const ready = (async () => {
    await doc.init()
    await recorder.start()
    if (!c.scalingEnabled) return
    const actuator = createActuator(core)
    if (actuator instanceof ScalingError) {
      inactive = { code: actuator.code, message: actuator.message }
      log.warn({ code: actuator.code }, actuator.message)
      return
    }
    supervisor = new ScalingSupervisor({
      actuator,
      observer: new LiveObserver({ queue: core.queue, load: core.load, metrics: core.metrics }),
      forecast: new LiveForecast(core.store.loadHistory, log),
      load: core.load,
      log,
      periodMs: c.scalingPeriodMs,
      settings: doc.settings,
    })
    doc.onChange((settings: ScalingSettings) => supervisor?.update(settings))
    supervisor.start()
    log.info({ actuator: actuator.kind, periodMs: c.scalingPeriodMs }, 'scaling: supervisor started')
  })()
  ready.catch((err: unknown) => log.error({ err }, 'scaling: could not start; workers stay as they are'))

  const state = (): ScalingState =>
    supervisor?.state ?? {
      enabled: false,
      actuator: c.scalingActuator,
      current: core.engine?.status().workers ?? 0,
      ready: core.engine?.status().workers ?? 0,
      desired: core.engine?.status().workers ?? 0,
      offload: core.load.offload,
      reason: c.scalingEnabled ? 'NotStarted' : 'ScalingDisabled',
      recommendations: { queue: 0, latency: 0, throughput: 0, forecast: 0 },
      demandFps: 0,
      forecastFps: null,
      at: null,
      error: inactive,
    }
  const snapshot = (): ScalingDoc => ({ settings: doc.settings, ...doc.meta, state: state() })

  return {
    ready,
    doc: snapshot,
    async save(value, actor) {
      await ready
      await doc.save(value, actor)
      return snapshot()
    },
    whatIf: (req) => whatIf({ history: core.store.loadHistory, policyOf: (line) => core.settings.get(line).policy, queueMaxLength: c.queueMaxLength }, req),
    history: (q) => statusHistory(core.store.loadHistory, q),
    async close() {
      await ready.catch(() => undefined) // reported when it failed
      await supervisor?.close()
      await recorder.stop().catch((err: unknown) => log.warn({ err: String(err) }, 'load history: the last flush failed'))
    },
  }
}
