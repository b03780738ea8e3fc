/**
 * The scaling settings a process starts with before an administrator saved any: bounds and the
 * worker model from the environment, the HPA's own default behavior, and no calendar.
 */
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import type { Config } from '../config/index.ts'

export type ScalingEnv = Pick<Config, 'scalingMinWorkers' | 'scalingMaxWorkers' | 'scalingWorkerCapacityFps' | 'scalingWorkerStartSeconds'>

export function defaultScalingSettings(env: ScalingEnv): ScalingSettings {
  const min = env.scalingMinWorkers
  return {
    minWorkers: min,
    maxWorkers: Math.max(min, env.scalingMaxWorkers),
    target: { queuePerWorker: 5, p95Ms: 1000, utilization: 0.8 },
    tolerance: 0.1,
    workerCapacityFps: env.scalingWorkerCapacityFps,
    workerStartSeconds: env.scalingWorkerStartSeconds,
    // the HPA's defaults (autoscaling/v2 HorizontalPodAutoscalerBehavior)
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 15 },
        { type: 'Pods', value: 4, periodSeconds: 15 },
      ],
    },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    // the forecast must see further ahead than a worker takes to start
    predictive: { enabled: true, leadMinutes: Math.max(2, Math.ceil(env.scalingWorkerStartSeconds / 60) + 1), headroom: 1.1 },
    offload: { enabled: true },
    calendar: { timeZone: 'UTC', shifts: [], breaks: [], burstMinutes: 10 },
  }
}
