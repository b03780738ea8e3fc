/**
 * The local supervisor: this process's inference worker threads. A removed worker finishes its
 * batch before it exits (WorkerPool.setWorkers drains it), so no frame is lost while workers
 * stop. Growing returns at once; the new workers serve once they have loaded every model.
 */
import type { PoolInferenceEngine } from '../../inference/engine.ts'
import type { Logger } from '../../log.ts'
import type { Metrics } from '../../metrics/metrics.ts'
import { ScalingError, type Actuator, type ActuatorStatus } from './types.ts'

export class LocalActuator implements Actuator {
  readonly kind = 'local' as const
  #target: number
  #failure: ScalingError | undefined
  #closed = false

  constructor(
    private readonly engine: Pick<PoolInferenceEngine, 'setWorkers' | 'status'>,
    private readonly metrics: Pick<Metrics, 'workers'>,
    private readonly log: Pick<Logger, 'info' | 'error'>,
  ) {
    this.#target = engine.status().workers
  }

  async status(): Promise<ActuatorStatus> {
    const failure = this.#failure
    if (failure) {
      this.#failure = undefined
      throw failure
    }
    const ready = this.engine.status().workers
    // linesight_inference_workers follows the pool, not only its size at start
    this.metrics.workers.set(ready)
    return { current: this.#target, ready }
  }

  async scale(n: number): Promise<void> {
    if (this.#closed) throw new ScalingError('closed', 'the local actuator is closed')
    const from = this.#target
    this.#target = n
    this.log.info({ from, to: n }, 'scaling: setting inference workers')
    this.engine
      .setWorkers(n)
      .then(() => this.metrics.workers.set(this.engine.status().workers))
      .catch((err: unknown) => {
        // reported by the next status() (the supervisor's next tick), and logged now
        this.#failure = new ScalingError('unavailable', `setWorkers(${n}) failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
        this.#target = this.engine.status().workers
        if (!this.#closed) this.log.error({ err, workers: n }, 'scaling: setting inference workers failed')
      })
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
