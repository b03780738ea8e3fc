/**
 * A discrete-time model of the inference workers under a load series, driven by the real
 * policy (policy.ts): the backtest and the admin's what-if replay both run this, so what they
 * report is what the live supervisor would have done.
 *
 * Every simulated second: frames arrive (the minute's frames spread evenly), a share of them goes
 * to browsers while offload is on, ready workers serve `workerCapacityFps` each, the rest waits
 * in the queue (bounded like QUEUE_MAX_LENGTH; the overflow is refused). Every `periodSeconds`
 * the policy sees what the live supervisor sees: queue depth, trailing-minute p95 and frames/s,
 * ready workers, the forecast. A worker asked for serves only after a start time drawn from
 * [startSeconds] (seeded, so predictive and reactive runs meet the same delays); a removed worker
 * stops at once (setWorkers drains it in milliseconds, nothing is lost).
 * Latency of a frame = the queue ahead of it / the ready capacity + its own service time.
 */
import type { ScalingSettings } from '../../shared/domain/scaling.ts'
import { ScalingPolicy } from './policy.ts'
import { rng } from './synthetic-plant.ts'

export interface SimOptions {
  /** Server-bound frames per minute. */
  demand: Float64Array
  /** ms of slot 0. */
  start: number
  /** Slots [from, to) are simulated. @default all */
  from?: number
  to?: number
  settings: ScalingSettings
  /** Forecast peak for a slot (frames/s), read when settings.predictive.enabled. */
  forecastFps?: (slot: number) => number | undefined
  /** The forecast for the slot itself (frames/s), the base its ramp is measured from. */
  forecastNowFps?: (slot: number) => number | undefined
  /** How often the policy decides, s. @default 15 (the HPA's sync period) */
  periodSeconds?: number
  /** A new worker's start time is drawn uniformly from [min, max] seconds. */
  startSeconds: readonly [number, number]
  seed: number
  /** @default settings.minWorkers */
  initialWorkers?: number
  /** Share of the demand that can move to browsers while offload is on (the `auto` lines'). @default 0 */
  offloadShare?: number
  /** A minute whose queue goes above this many frames is a backlog minute. */
  backlogThreshold: number
  /** @default Infinity */
  queueMaxLength?: number
}

export interface SimMinutes {
  /** Workers asked for at the end of each minute. */
  workers: Float64Array
  /** Mean ready workers over each minute. */
  ready: Float64Array
  queueMax: Float64Array
  p95Ms: Float64Array
  /** 1 when offload was on at any moment of the minute. */
  offload: Uint8Array
}

export interface SimResult {
  minutes: SimMinutes
  backlogMinutes: number
  workerMinutes: number
  maxQueue: number
  offloadMinutes: number
  refusedFrames: number
  offloadedFrames: number
  servedFrames: number
  /** Frames still waiting when the run ended. */
  queuedAtEnd: number
}

/** Longest latency reported while no worker serves at all, ms. */
const NO_WORKER_MS = 60_000
const WINDOW = 60

export function simulate(o: SimOptions): SimResult {
  const s = o.settings
  const from = o.from ?? 0
  const to = o.to ?? o.demand.length
  const n = Math.max(0, to - from)
  const period = o.periodSeconds ?? 15
  const capacity = s.workerCapacityFps
  const queueMax = o.queueMaxLength ?? Infinity
  const offloadShare = o.offloadShare ?? 0
  const draw = rng(o.seed)
  const startDelay = () => o.startSeconds[0] + draw() * (o.startSeconds[1] - o.startSeconds[0])
  const policy = new ScalingPolicy(s)

  // each worker is the second it starts serving; the initial ones already serve
  let workers: number[] = Array.from({ length: o.initialWorkers ?? s.minWorkers }, () => -Infinity)
  let queue = 0
  let offload = false
  // trailing minute, per second: arrivals at the server, offloaded, each second's latency
  const arrived = new Float64Array(WINDOW)
  const moved = new Float64Array(WINDOW)
  const waitMs = new Float64Array(WINDOW)
  let arrivedSum = 0
  let movedSum = 0

  const minutes: SimMinutes = { workers: new Float64Array(n), ready: new Float64Array(n), queueMax: new Float64Array(n), p95Ms: new Float64Array(n), offload: new Uint8Array(n) }
  let workerSeconds = 0
  let refused = 0
  let offloaded = 0
  let served = 0

  for (let m = 0; m < n; m++) {
    const slot = from + m
    const perSecond = (o.demand[slot] ?? 0) / 60
    let readySum = 0
    let qMax = 0
    let p95 = 0
    for (let sec = 0; sec < 60; sec++) {
      const t = m * 60 + sec // seconds since the start of the run
      const ready = countReady(workers, t)
      let a = perSecond
      const away = offload ? a * offloadShare : 0
      a -= away
      offloaded += away
      queue += a
      const done = Math.min(queue, ready * capacity)
      queue -= done
      served += done
      if (queue > queueMax) {
        refused += queue - queueMax
        queue = queueMax
      }
      const w = ready > 0 ? (queue / (ready * capacity) + 1 / capacity) * 1000 : a > 0 || queue > 0 ? NO_WORKER_MS : 0
      const k = t % WINDOW
      arrivedSum += a - arrived[k]!
      movedSum += away - moved[k]!
      arrived[k] = a
      moved[k] = away
      waitMs[k] = w
      readySum += ready
      workerSeconds += workers.length
      if (queue > qMax) qMax = queue
      if (w > p95) p95 = w
      if (offload) minutes.offload[m] = 1

      if (t % period === period - 1) {
        const d = policy.decide({
          at: o.start + (slot * 60 + sec) * 1000,
          current: workers.length,
          ready,
          queueDepth: queue,
          p95Ms: weightedP95(waitMs, arrived),
          lines: [{ line: 'all', serverFps: Math.max(0, arrivedSum) / WINDOW, browserFps: Math.max(0, movedSum) / WINDOW }],
          offloadActive: offload,
          forecastFps: s.predictive.enabled ? o.forecastFps?.(slot) : undefined,
          forecastNowFps: s.predictive.enabled ? o.forecastNowFps?.(slot) : undefined,
        })
        if (d.desired !== workers.length) {
          const before = workers.length
          workers = resize(workers, d.desired, t, startDelay)
          policy.scaled(before, d.desired, o.start + (slot * 60 + sec) * 1000)
        }
        offload = d.offload
      }
    }
    minutes.workers[m] = workers.length
    minutes.ready[m] = readySum / 60
    minutes.queueMax[m] = qMax
    minutes.p95Ms[m] = p95
  }

  let backlogMinutes = 0
  let maxQueue = 0
  let offloadMinutes = 0
  for (let m = 0; m < n; m++) {
    if (minutes.queueMax[m]! > o.backlogThreshold) backlogMinutes++
    maxQueue = Math.max(maxQueue, minutes.queueMax[m]!)
    offloadMinutes += minutes.offload[m]!
  }
  return { minutes, backlogMinutes, workerMinutes: workerSeconds / 60, maxQueue, offloadMinutes, refusedFrames: refused, offloadedFrames: offloaded, servedFrames: served, queuedAtEnd: queue }
}

function countReady(workers: readonly number[], t: number): number {
  let r = 0
  for (const at of workers) if (at <= t) r++
  return r
}

/** Starting workers leave first (nothing of theirs is in flight), then the most recent. */
function resize(workers: number[], n: number, t: number, delay: () => number): number[] {
  if (n > workers.length) return [...workers, ...Array.from({ length: n - workers.length }, () => t + delay())]
  return [...workers].sort((a, b) => a - b).slice(0, n)
}

/** 95th percentile of the trailing seconds' latencies, weighted by the frames of each second. */
function weightedP95(waitMs: Float64Array, weights: Float64Array): number {
  const idx = Array.from({ length: waitMs.length }, (_, i) => i).filter((i) => weights[i]! > 0)
  if (!idx.length) return 0
  idx.sort((a, b) => waitMs[a]! - waitMs[b]!)
  let total = 0
  for (const i of idx) total += weights[i]!
  let acc = 0
  for (const i of idx) {
    acc += weights[i]!
    if (acc >= 0.95 * total) return waitMs[i]!
  }
  return waitMs[idx[idx.length - 1]!]!
}
