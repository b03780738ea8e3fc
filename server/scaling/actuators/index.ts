/** Picks the actuator SCALING_ACTUATOR names. */
import type { Core } from '../../core.ts'
import { KubernetesActuator } from './kubernetes.ts'
import { LocalActuator } from './local.ts'
import { NoActuator } from './none.ts'
import { ScalingError, type Actuator } from './types.ts'

/** The actuator, or why this process cannot scale anything (a gateway asked to scale itself). */
export function createActuator(core: Core): Actuator | ScalingError {
  const c = core.config
  switch (c.scalingActuator) {
    case 'local':
      if (!core.engine) return new ScalingError('no_engine', 'SCALING_ACTUATOR=local scales this process\'s inference workers, and this process runs none (LINESIGHT_ROLE=gateway)')
      return new LocalActuator(core.engine, core.metrics, core.log)
    case 'kubernetes':
      return new KubernetesActuator({
        namespace: c.scalingK8sNamespace,
        target: c.scalingK8sTarget,
        deployment: c.scalingK8sDeployment,
        scaledObject: c.scalingK8sScaledObject,
        kubeconfigFile: c.scalingK8sKubeconfig,
      })
    case 'none':
      return new NoActuator(core.engine?.status().workers ?? c.scalingMinWorkers, () => core.engine?.status().workers ?? core.load.workers)
  }
}
