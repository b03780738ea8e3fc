import { describe, expect, it } from 'vitest'
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { NoActuator } from './actuators/none.ts'
import { ScalingError, type Actuator, type ActuatorStatus } from './actuators/types.ts'
import { defaultScalingSettings } from './defaults.ts'
import type { Observed } from './observe.ts'
import { ScalingSupervisor } from './supervisor.ts'

const quiet = { info: () => undefined, warn: () => undefined }
const settings = (patch: Partial<ScalingSettings> = {}): ScalingSettings => ({
  ...defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 8, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 }),
  ...patch,
})
const observed = (fps: number): Observed => ({ queueDepth: 0, p95Ms: 0, lines: [{ line: 'L1', serverFps: fps, browserFps: 0 }], offloadActive: false })

/** An actuator whose workers become ready only when the test says so. */
class Pool implements Actuator {
  readonly kind = 'local' as const
  asked: number[] = []
  current = 1
  ready = 1
  fail: ScalingError | undefined
  async status(): Promise<ActuatorStatus> {
    if (this.fail) throw this.fail
    return { current: this.current, ready: this.ready }
  }
  async scale(n: number): Promise<void> {
    this.asked.push(n)
    this.current = n
  }
  async close(): Promise<void> {}
}

function supervisor(actuator: Actuator, load: { offload: boolean }, fps: () => number, forecast?: number) {
  return new ScalingSupervisor({
    actuator,
    observer: { observe: async () => observed(fps()) },
    forecast: { peakFps: () => forecast },
    load,
    log: quiet,
    periodMs: 15_000,
    settings: settings(),
  })
}

describe('scaling supervisor', () => {
  it('asks the actuator for the decision and offloads until the new workers serve', async () => {
    const pool = new Pool()
    const load = { offload: false }
    const s = supervisor(pool, load, () => 30)
    await s.tick(0)
    expect(pool.asked).toEqual([4])
    expect(load.offload).toBe(true)
    expect(s.state).toMatchObject({ current: 4, ready: 1, desired: 4, offload: true, error: null })
    pool.ready = 4
    await s.tick(15_000)
    expect(load.offload).toBe(false)
    expect(pool.asked).toEqual([4])
  })

  it('shows a failing actuator in its state, and carries on once it works again', async () => {
    const pool = new Pool()
    const s = supervisor(pool, { offload: false }, () => 30)
    pool.fail = new ScalingError('forbidden', 'could not scale the worker Deployment: HTTP 403')
    await s.tick(0)
    expect(s.state.error).toEqual({ code: 'forbidden', message: 'could not scale the worker Deployment: HTTP 403' })
    expect(pool.asked).toEqual([])
    pool.fail = undefined
    await s.tick(15_000)
    expect(s.state.error).toBeNull()
    expect(pool.asked).toEqual([4])
  })

  it('applies new settings from the next tick', async () => {
    const pool = new Pool()
    const s = supervisor(pool, { offload: false }, () => 30)
    s.update(settings({ maxWorkers: 2 }))
    await s.tick(0)
    expect(pool.asked).toEqual([2])
  })

  it('releases offload when it stops, so stations do not stay in their browsers', async () => {
    const load = { offload: false }
    const s = supervisor(new Pool(), load, () => 30)
    await s.tick(0)
    expect(load.offload).toBe(true)
    await s.close()
    expect(load.offload).toBe(false)
  })

  it('with no actuator, decides and reports but changes nothing else', async () => {
    const load = { offload: false }
    const none = new NoActuator(1, () => 1)
    const s = supervisor(none, load, () => 30, 50)
    const state = await s.tick(0)
    expect(state).toMatchObject({ actuator: 'none', desired: 5, forecastFps: 50, recommendations: { throughput: 4, forecast: 7 } })
    expect((await none.status()).current).toBe(5)
    expect(state.offload).toBe(true)
    expect(load.offload).toBe(false)
  })
})
