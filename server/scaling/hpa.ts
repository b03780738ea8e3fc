/**
 * The Kubernetes HorizontalPodAutoscaler's `behavior`, reproduced step for step so a setting
 * means here exactly what it means on a cluster (kubernetes pkg/controller/podautoscaler,
 * `stabilizeRecommendationWithBehaviors` and `convertDesiredReplicasWithBehaviorRate`):
 *
 *  1. stabilization: the recommendation is held between the *lowest* recommendation of the
 *     scale-up window and the *highest* of the scale-down window, starting from the current
 *     count. So a scale-down needs every recommendation of the last `scaleDown` window to agree,
 *     and a scale-up (with a window) every recommendation of the `scaleUp` window;
 *  2. rate: a scale-up may reach at most the count at the start of each policy's period plus
 *     `value` pods (or times 1 + value %, rounded up); a scale-down at least that count minus
 *     `value` pods (or times 1 - value %, rounded down); `selectPolicy` Max takes the policy
 *     allowing the most change, Min the least, Disabled allows none;
 *  3. bounds: the result stays within min and max workers.
 *
 * Time comes in as an argument (ms): nothing here reads a clock, so tests run on a simulated one.
 */
import type { ScalingReason, ScalingRules } from '../../shared/domain/scaling.ts'

interface Recommendation {
  at: number
  replicas: number
}

interface ScaleEvent {
  at: number
  /** Always > 0; the direction is the list it is in. */
  change: number
}

export interface BehaviorInput {
  now: number
  current: number
  /** The metrics' recommendation, already within no bounds. */
  desired: number
  min: number
  max: number
  scaleUp: ScalingRules
  scaleDown: ScalingRules
}

export interface BehaviorOutput {
  replicas: number
  reason: ScalingReason
}

export class HpaBehavior {
  #recommendations: Recommendation[] | undefined
  readonly #ups: ScaleEvent[] = []
  readonly #downs: ScaleEvent[] = []

  /**
   * The count to scale to now. Records `desired` as a recommendation (as the HPA does on every
   * sync), but not a scale event: call `scaled` once the change was applied.
   */
  next(i: BehaviorInput): BehaviorOutput {
    // HPA seeds a new autoscaler's history with the current count, so a restart of the
    // controller cannot scale down at once (maybeInitScaleDownStabilizationWindow).
    this.#recommendations ??= [{ at: i.now, replicas: i.current }]
    const stabilized = this.#stabilize(i)
    const rated = this.#rate({ ...i, desired: stabilized })
    if (rated.replicas === i.current && stabilized === i.current && i.desired !== i.current) {
      return { replicas: i.current, reason: i.desired > i.current ? 'ScaleUpStabilized' : 'ScaleDownStabilized' }
    }
    return rated
  }

  /** Records an applied change; the rate policies count it for their periods. */
  scaled(from: number, to: number, now: number): void {
    if (to > from) this.#ups.push({ at: now, change: to - from })
    else if (to < from) this.#downs.push({ at: now, change: from - to })
  }

  /** Forgets everything older than any window or period could look back (memory stays bounded). */
  prune(now: number, up: ScalingRules, down: ScalingRules): void {
    const longestPeriod = Math.max(0, ...up.policies.map((p) => p.periodSeconds), ...down.policies.map((p) => p.periodSeconds)) * 1000
    const longestWindow = Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds) * 1000
    const keep = <T extends { at: number }>(list: T[], horizon: number) => {
      const cut = list.findIndex((e) => e.at > now - horizon)
      list.splice(0, cut === -1 ? list.length : cut)
    }
    keep(this.#ups, longestPeriod)
    keep(this.#downs, longestPeriod)
    if (this.#recommendations) keep(this.#recommendations, longestWindow)
  }

  #stabilize(i: BehaviorInput): number {
    const upCutoff = i.now - i.scaleUp.stabilizationWindowSeconds * 1000
    const downCutoff = i.now - i.scaleDown.stabilizationWindowSeconds * 1000
    let up = i.desired
    let down = i.desired
    const recs = this.#recommendations!
    for (const r of recs) {
      if (r.at > upCutoff) up = Math.min(up, r.replicas)
      if (r.at > downCutoff) down = Math.max(down, r.replicas)
    }
    let replicas = i.current
    if (replicas < up) replicas = up
    if (replicas > down) replicas = down
    // Older than both windows can never matter again (windows only look back from now).
    const stale = recs.findIndex((r) => !(r.at <= upCutoff && r.at <= downCutoff))
    recs.splice(0, stale === -1 ? recs.length : stale)
    recs.push({ at: i.now, replicas: i.desired })
    return replicas
  }

  #rate(i: BehaviorInput): BehaviorOutput {
    if (i.desired > i.current) {
      let limit = scaleUpLimit(i.current, this.#ups, this.#downs, i.scaleUp, i.now)
      // a limit below the current count means "not further until old events expire"
      if (limit < i.current) limit = i.current
      const reason: ScalingReason = i.max > limit ? 'ScaleUpLimit' : 'TooManyReplicas'
      const allowed = Math.min(i.max, limit)
      return i.desired > allowed ? { replicas: allowed, reason } : { replicas: i.desired, reason: 'DesiredWithinRange' }
    }
    if (i.desired < i.current) {
      let limit = scaleDownLimit(i.current, this.#ups, this.#downs, i.scaleDown, i.now)
      if (limit > i.current) limit = i.current
      const reason: ScalingReason = i.min < limit ? 'ScaleDownLimit' : 'TooFewReplicas'
      const allowed = Math.max(i.min, limit)
      return i.desired < allowed ? { replicas: allowed, reason } : { replicas: i.desired, reason: 'DesiredWithinRange' }
    }
    return { replicas: i.desired, reason: 'DesiredWithinRange' }
  }
}

/** Sum of changes within the last `periodSeconds` (HPA: events strictly after the cutoff). */
function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000
  let sum = 0
  for (const e of events) if (e.at > cutoff) sum += e.change
  return sum
}

function scaleUpLimit(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity
  for (const p of rules.policies) {
    const periodStart = current - changeInPeriod(ups, p.periodSeconds, now) + changeInPeriod(downs, p.periodSeconds, now)
    // rounded up, or a small count could never grow by a percentage
    const proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100))
    result = pick(result, proposed)
  }
  return Number.isFinite(result) ? result : current
}

function scaleDownLimit(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  // for a scale-down the least change is the highest count, hence the swapped min/max
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity
  for (const p of rules.policies) {
    const periodStart = current - changeInPeriod(ups, p.periodSeconds, now) + changeInPeriod(downs, p.periodSeconds, now)
    const proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100))
    result = pick(result, proposed)
  }
  return Number.isFinite(result) ? result : current
}
