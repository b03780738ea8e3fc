/**
 * What the autoscaler changes. The policy decides a worker count; an actuator asks for it and
 * reports how many workers are asked for and how many serve.
 */
import { CodedError } from '../../errors.ts'

export type ActuatorKind = 'local' | 'kubernetes' | 'none'

export interface ActuatorStatus {
  /** Workers asked for (HPA: spec.replicas). */
  current: number
  /** Workers serving frames. */
  ready: number
}

export interface Actuator {
  readonly kind: ActuatorKind
  status(): Promise<ActuatorStatus>
  /**
   * Asks for `n` workers; resolves once the request is accepted, not when they serve. `max` is
   * the upper bound the policy works within (the ScaledObject mode writes it).
   */
  scale(n: number, bounds: { min: number; max: number }): Promise<void>
  close(): Promise<void>
}

export type ScalingErrorCode = 'forbidden' | 'not_found' | 'unavailable' | 'invalid' | 'no_engine' | 'closed'

/** An actuator's failure, as a value with a code (the status page and the log show both). */
export class ScalingError extends CodedError<ScalingErrorCode> {
  override name = 'ScalingError'
}
