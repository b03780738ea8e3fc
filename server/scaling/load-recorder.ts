/**
 * Writes this process's load into the per-minute load history (store.loadHistory), per line,
 * from the values already in the prom-client registry (no new call sites in the pipeline):
 *  - frames: increase of linesight_frames_received_total{line} (every source: ws, http, upload
 *    and browser, i.e. everything the stations sent after their prefilter);
 *  - skipped: increase of linesight_frames_skipped_total{line};
 *  - browserFrames: increase of linesight_results_total{line, where="browser"};
 *  - queueDepthMax: the largest linesight_queue_depth{queue="live"} sampled every second;
 *  - workers: linesight_inference_workers;
 *  - p95Ms: from the increase of linesight_e2e_latency_seconds' buckets (interpolated like
 *    PromQL's histogram_quantile); when that saw nothing (HTTP-only traffic, a worker process)
 *    the LoadTracker's one-minute p95 instead.
 * Every known line gets a row each flush, zeros included: a quiet minute is a recorded zero,
 * which the forecast needs, not a gap. Flushes are aligned to the flush interval, and the rows go
 * to the minute at the middle of the interval. Each process writes its own rows (`source`); the
 * history adds them up.
 */
import { hostname } from 'node:os'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { LoadTracker } from '../metrics/load.ts'
import type { LoadHistory } from '../storage/load-history.ts'

const SAMPLE_MS = 1000
const DAY_MS = 86_400_000
const MAX_LINES = 1000

export interface LoadRecorderDeps {
  metrics: Metrics
  load: Pick<LoadTracker, 'p95'>
  history: Pick<LoadHistory, 'add' | 'deleteBefore'>
  log: Pick<Logger, 'warn' | 'info'>
  /** 0 records nothing. */
  flushMs: number
  /** 0 keeps everything. */
  retentionDays: number
  source?: string
}

interface Counts {
  frames: number
  skipped: number
  browser: number
}

type Buckets = Map<number, number>

export class LoadRecorder {
  readonly #d: LoadRecorderDeps
  readonly #source: string
  #base = new Map<string, Counts>()
  #baseBuckets: Buckets = new Map()
  #queueMax = 0
  #since = Date.now()
  #timers: ReturnType<typeof setTimeout>[] = []
  #flushing: Promise<void> | undefined
  #lastPrune = 0

  constructor(deps: LoadRecorderDeps) {
    this.#d = deps
    this.#source = deps.source ?? `${hostname()}:${process.pid}`.slice(0, 128)
  }

  /** Takes the baseline, then samples every second and flushes every interval. */
  async start(): Promise<void> {
    if (this.#d.flushMs <= 0) return
    await this.begin()
    const sampler = setInterval(() => void this.sample().catch((err: unknown) => this.#d.log.warn({ err: String(err) }, 'load history: sampling failed')), SAMPLE_MS)
    sampler.unref()
    this.#timers.push(sampler)
    this.#schedule()
  }

  /** Takes the baseline: what the counters hold now is not this process's load to record. */
  async begin(now = Date.now()): Promise<void> {
    this.#base = await this.#counts()
    this.#baseBuckets = await this.#buckets()
    this.#since = now
  }

  /** Flushes what is left, then stops. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers = []
    if (this.#d.flushMs > 0) await this.flush()
  }

  async sample(): Promise<void> {
    const live = (await this.#d.metrics.queueDepth.get()).values.find((v) => v.labels.queue === 'live')?.value ?? 0
    if (live > this.#queueMax) this.#queueMax = live
  }

  /** Adds everything since the last flush; never two at once. */
  flush(now = Date.now()): Promise<void> {
    const run = (this.#flushing ?? Promise.resolve()).then(() => this.#flush(now))
    this.#flushing = run.finally(() => {
      if (this.#flushing === run) this.#flushing = undefined
    })
    return run
  }

  #schedule(): void {
    const every = this.#d.flushMs
    const wait = Math.ceil((Date.now() + 1) / every) * every - Date.now()
    const t = setTimeout(() => {
      this.#timers = this.#timers.filter((x) => x !== t)
      this.flush()
        .catch((err: unknown) => this.#d.log.warn({ err: String(err) }, 'load history: flush failed; its frames go into the next one'))
        .finally(() => {
          if (this.#timers.length) this.#schedule()
        })
    }, wait)
    t.unref()
    this.#timers.push(t)
  }

  async #flush(now: number): Promise<void> {
    await this.sample()
    const counts = await this.#counts()
    const buckets = await this.#buckets()
    const workers = (await this.#d.metrics.workers.get()).values[0]?.value ?? 0
    const p95Ms = quantileMs(delta(buckets, this.#baseBuckets), 0.95) ?? this.#d.load.p95(now)
    const minute = Math.floor((this.#since + now) / 2)
    const queueDepthMax = this.#queueMax
    let failed: unknown
    for (const [line, c] of counts) {
      const b = this.#base.get(line) ?? { frames: 0, skipped: 0, browser: 0 }
      try {
        await this.#d.history.add({
          minute,
          line,
          source: this.#source,
          frames: Math.max(0, c.frames - b.frames),
          skipped: Math.max(0, c.skipped - b.skipped),
          browserFrames: Math.max(0, c.browser - b.browser),
          queueDepthMax,
          workers,
          p95Ms: Math.round(p95Ms * 10) / 10,
        })
        // per line: a line whose write failed keeps its baseline and is counted next time
        this.#base.set(line, c)
      } catch (err) {
        failed ??= err
      }
    }
    this.#baseBuckets = buckets
    this.#queueMax = 0
    this.#since = now
    await this.#prune(now)
    if (failed) throw failed instanceof Error ? failed : new Error('a line\'s load could not be written', { cause: failed })
  }

  async #prune(now: number): Promise<void> {
    if (this.#d.retentionDays <= 0 || now - this.#lastPrune < DAY_MS) return
    this.#lastPrune = now
    const removed = await this.#d.history.deleteBefore(now - this.#d.retentionDays * DAY_MS)
    if (removed) this.#d.log.info({ removed }, 'load history: old minutes deleted')
  }

  async #counts(): Promise<Map<string, Counts>> {
    const m = this.#d.metrics
    const out = new Map<string, Counts>()
    const at = (line: unknown) => {
      if (typeof line !== 'string' || (!out.has(line) && out.size >= MAX_LINES)) return undefined
      let c = out.get(line)
      if (!c) out.set(line, (c = { frames: 0, skipped: 0, browser: 0 }))
      return c
    }
    for (const v of (await m.framesReceived.get()).values) {
      const c = at(v.labels.line)
      if (c) c.frames += v.value
    }
    for (const v of (await m.framesSkipped.get()).values) {
      const c = at(v.labels.line)
      if (c) c.skipped += v.value
    }
    for (const v of (await m.results.get()).values) {
      const c = at(v.labels.line)
      if (c && v.labels.where === 'browser') c.browser += v.value
    }
    return out
  }

  /** Cumulative e2e latency buckets, summed over the source label: upper bound (s) -> count. */
  async #buckets(): Promise<Buckets> {
    const out: Buckets = new Map()
    for (const v of (await this.#d.metrics.e2eSeconds.get()).values) {
      if (!v.metricName?.endsWith('_bucket')) continue
      // prom-client types only the declared labels; a bucket's `le` is there at runtime
      const raw = (v.labels as Record<string, string | number | undefined>).le
      const le = raw === '+Inf' ? Infinity : Number(raw)
      out.set(le, (out.get(le) ?? 0) + v.value)
    }
    return out
  }
}

function delta(now: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map()
  for (const [le, v] of now) out.set(le, Math.max(0, v - (before.get(le) ?? 0)))
  return out
}

/** PromQL histogram_quantile on cumulative buckets, in ms; undefined without observations. */
export function quantileMs(buckets: Buckets, q: number): number | undefined {
  const bounds = [...buckets.keys()].sort((a, b) => a - b)
  const total = buckets.get(Infinity) ?? 0
  if (!(total > 0)) return undefined
  const rank = q * total
  let prevBound = 0
  let prevCount = 0
  for (const le of bounds) {
    const count = buckets.get(le)!
    if (count >= rank) {
      // in the +Inf bucket the best bound known is the largest finite one
      if (le === Infinity) return prevBound * 1000
      const inBucket = count - prevCount
      const fraction = inBucket > 0 ? (rank - prevCount) / inBucket : 1
      return (prevBound + (le - prevBound) * fraction) * 1000
    }
    prevBound = le
    prevCount = count
  }
  return prevBound * 1000
}
