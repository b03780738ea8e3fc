import type { Actuator, ActuatorStatus } from './types.ts'

/** Decides and reports, changes nothing (SCALING_ACTUATOR=none): for a dry run beside another autoscaler. */
export class NoActuator implements Actuator {
  readonly kind = 'none' as const
  #asked: number

  constructor(
    initial: number,
    private readonly ready: () => number,
  ) {
    this.#asked = initial
  }

  async status(): Promise<ActuatorStatus> {
    return { current: this.#asked, ready: this.ready() }
  }

  async scale(n: number): Promise<void> {
    // remembered so the policy's rates and windows behave as if it had been applied
    this.#asked = n
  }

  async close(): Promise<void> {}
}
