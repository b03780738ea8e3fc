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

/** How much longer than a verdict worker a candidate worker may take on one frame: it yields the cores to the verdict workers. */
const CANDIDATE_WATCHDOG_FACTOR = 6

/**
 * The engine candidate models run on in shadow (server/candidates/shadow.ts): its own worker
 * threads, never the verdict workers, each with one onnxruntime thread at the lowest CPU priority;
 * models loaded when a line's candidate first asks for one. None when CANDIDATE_WORKERS or
 * CANDIDATE_MAX_IN_FLIGHT is 0.
 */
export async function openCandidateEngine(config: Config, log: Logger, metrics: Metrics, modelsDir: string): Promise<PoolInferenceEngine | undefined> {
  if (config.candidateWorkers === 0 || config.candidateMaxInFlight === 0) return undefined
  return createInferenceEngine({
    settings: {
      ...config,
      modelsDir,
      workers: config.candidateWorkers,
      threadsPerWorker: 1,
      batchMaxSize: 1,
      watchdogTimeoutMs: config.watchdogTimeoutMs * CANDIDATE_WATCHDOG_FACTOR,
    },
    models: 'on-demand',
    background: true,
    log: log.child({ component: 'candidate-inference' }),
    hooks: {
      onWorkerRestart: (e) => metrics.candidateWorkerRestarts.inc({ reason: e.reason === 'timeout' ? 'stuck' : 'crashed' }),
      onModelLoaded: (m) => log.info({ model: m.name, version: m.version, ep: m.ep }, 'candidate model loaded on the candidate workers'),
      onModelRejected: (e) => log.error({ model: e.name, error: e.error.message }, 'candidate model refused by the candidate workers'),
    },
  })
}
