/**
 * The inference engine of a process that runs inference, with its metrics hooked up.
 */
import type { Config } from '../config/index.ts'
import { createInferenceEngine, type PoolInferenceEngine } from '../inference/engine.ts'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics/metrics.ts'

export function openEngine(config: Config, log: Logger, metrics: Metrics, modelsDir: string): Promise<PoolInferenceEngine> {
  // one linesight_model_info series per model name: a new version replaces the old one's
  const infoLabels = new Map<string, { name: string; version: string; task: string; ep: string }>()
  return createInferenceEngine({
    settings: { ...config, modelsDir },
    log: log.child({ component: 'inference' }),
    hooks: {
      onBatch: (e) => metrics.batchSize.observe({ model: e.model }, e.size),
      onWorkerRestart: (e) => metrics.workerRestarts.inc({ reason: e.reason === 'timeout' ? 'stuck' : 'crashed' }),
      onModelLoaded: (m) => {
        const previous = infoLabels.get(m.name)
        if (previous) metrics.modelInfo.remove(previous)
        const labels = { name: m.name, version: m.version, task: m.task, ep: m.ep }
        infoLabels.set(m.name, labels)
        metrics.modelInfo.set(labels, 1)
        log.info({ model: m.name, version: m.version, ep: m.ep }, 'model serving')
      },
      onModelRejected: (e) => log.error({ model: e.name, error: e.error.message }, 'model version refused; the running version stays'),
    },
  })
}
