/**
 * BENCHMARK DOUBLE, not product code: an inference engine that answers every frame at once with
 * no detections and never decodes it. The gateway-ceiling stage swaps it in for
 * server/wiring/engine.ts (see hooks.mjs) so that everything else in the server process is the
 * real thing (uWS gateway, station sessions, embedded queue, processor, SQLite recorder, result
 * hub), and what it measures is the most frames/s linesight itself can move.
 */
import os from 'node:os'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseManifest } from '../../shared/domain/manifest.ts'
import type { Config } from '../../server/config/index.ts'
import { planThreads } from '../../server/inference/plan.ts'
import type { EngineStatus, InferOutcome, InferRequest, InferenceEngine } from '../../server/inference/types.ts'
import type { Logger } from '../../server/log.ts'
import type { Metrics } from '../../server/metrics/metrics.ts'

class NoopEngine implements InferenceEngine {
  constructor(
    private readonly model: { name: string; version: string; defectClasses: readonly string[] },
    private readonly workers: number,
  ) {}

  async infer(_req: InferRequest): Promise<InferOutcome> {
    return {
      detections: [],
      width: 0,
      height: 0,
      model: { name: this.model.name, version: this.model.version },
      ep: 'noop',
      defectClasses: this.model.defectClasses,
      batchSize: 1,
      timings: { decode: 0, infer: 0, postprocess: 0 },
    }
  }

  status(): EngineStatus {
    return { workers: this.workers, busyWorkers: 0, models: [{ name: this.model.name, version: this.model.version, ep: 'noop' }], providerErrors: [], inferMs: 0 }
  }

  async close(): Promise<void> {}
}

/** Same signature as server/wiring/engine.ts's openEngine, which it replaces. */
export async function openEngine(config: Config, log: Logger, _metrics: Metrics, modelsDir: string): Promise<InferenceEngine> {
  const file = join(modelsDir, config.defaultModel, 'manifest.json')
  const m = parseManifest(JSON.parse(await readFile(file, 'utf8')), file)
  // as many "workers" as the real engine would plan: the processor sizes its prefetch from them
  const { workers } = planThreads(os.availableParallelism(), config.workers, config.threadsPerWorker)
  log.warn({ model: m.name, workers }, 'BENCHMARK: the no-op inference engine is serving (bench/noop); every frame passes with no detections')
  return new NoopEngine({ name: m.name, version: m.version, defectClasses: m.task === 'detect' ? m.defectClasses : [] }, workers)
}

/** The gateway-ceiling stage measures linesight without candidates: no candidate engine. */
export async function openCandidateEngine(): Promise<undefined> {
  return undefined
}
