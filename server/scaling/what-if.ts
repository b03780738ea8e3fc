/**
 * The admin's what-if replay: the recorded load of a past day run through the same simulation
 * as the backtest (simulate.ts) under candidate settings, beside what the recorder saw happen.
 *
 * Modelling choices, shown to the admin with the result:
 *  - demand = frames received minus frames inferred in browsers, per minute (what the servers
 *    had to serve); the share of it on `auto` lines can move to browsers while offload is on;
 *  - a new worker serves `workerStartSeconds` after it is asked for;
 *  - the run starts with the workers recorded in its first minute (within the new bounds);
 *  - the forecast reads the 28 days before each minute, as the live one would have;
 *  - a backlog minute is one whose queue went above two seconds of one worker's work
 *    (2 x workerCapacityFps frames), recorded and simulated alike.
 */
import type { WhatIfPoint, WhatIfRequest, WhatIfResult } from '../../shared/domain/scaling.ts'
import { CodedError } from '../errors.ts'
import type { LoadHistory } from '../storage/load-history.ts'
import { Forecaster } from './forecast.ts'
import { MINUTE_MS, floorMinute, recordedState, toSeries, type MinuteSeries, type RecordedState } from './series.ts'
import { TraceError, traceFromCsv } from './trace.ts'
import { simulate } from './simulate.ts'

const DAY_MS = 86_400_000
const MAX_SPAN_MS = 2 * DAY_MS
const FORECAST_DAYS = 28

export interface WhatIfDeps {
  history: Pick<LoadHistory, 'range'>
  /** The routing policy a line runs now. */
  policyOf: (line: string) => string
  queueMaxLength: number
}

export async function whatIf(deps: WhatIfDeps, req: WhatIfRequest, now = Date.now()): Promise<WhatIfResult> {
  if (req.trace) return whatIfTrace(deps.queueMaxLength, { ...req, trace: req.trace })
  const to = floorMinute(req.to ?? now)
  const from = floorMinute(req.from ?? to - DAY_MS)
  if (!(to > from)) throw new CodedError('bad_range', '"to" must be after "from"')
  if (to - from > MAX_SPAN_MS) throw new CodedError('bad_range', 'a replay covers at most 2 days')
  const s = req.settings
  const historyFrom = from - FORECAST_DAYS * DAY_MS
  const samples = await deps.history.range(historyFrom, to, req.line)
  const series = toSeries(samples, historyFrom, to)
  const first = (from - historyFrom) / MINUTE_MS
  const last = series.length
  const inRange = samples.filter((x) => x.minute >= from)
  const actual = recordedState(inRange, series)

  let autoFrames = 0
  let allFrames = 0
  for (const [line, values] of series.lines) {
    let sum = 0
    for (let i = first; i < last; i++) sum += values[i]!
    allFrames += sum
    if (deps.policyOf(line) === 'auto') autoFrames += sum
  }
  return replay({ s, series, first, last, actual, offloadShare: allFrames > 0 ? autoFrames / allFrames : 0, queueMaxLength: deps.queueMaxLength, from, to, line: req.line ?? null })
}

/**
 * A load the admin loaded from a file (`timestamp,value` rows, trace.ts) instead of the recorded
 * history: the last 24 hours of it (or `from`..`to` within it) are replayed, the forecast reads
 * the trace before them; nothing was recorded, so every `actual` is null and nothing is offloadable.
 */
export function whatIfTrace(queueMaxLength: number, req: WhatIfRequest & { trace: NonNullable<WhatIfRequest['trace']> }): WhatIfResult {
  let trace
  try {
    trace = traceFromCsv(req.trace.csv, req.trace.unit)
  } catch (err) {
    if (err instanceof TraceError) throw new CodedError('bad_trace', err.message)
    throw err
  }
  const series = trace.series
  const end = series.start + series.length * MINUTE_MS
  const to = Math.min(end, floorMinute(req.to ?? end))
  const from = Math.max(series.start, floorMinute(req.from ?? to - DAY_MS))
  if (!(to > from)) throw new CodedError('bad_range', '"from".."to" must lie within the trace')
  if (to - from > MAX_SPAN_MS) throw new CodedError('bad_range', 'a replay covers at most 2 days')
  const first = (from - series.start) / MINUTE_MS
  const last = (to - series.start) / MINUTE_MS
  const none = { workers: new Float64Array(series.length), queueDepthMax: new Float64Array(series.length), p95Ms: new Float64Array(series.length) }
  const r = replay({ s: req.settings, series, first, last, actual: none, offloadShare: 0, queueMaxLength, from, to, line: null, recorded: false })
  return r
}

interface Replay {
  s: WhatIfRequest['settings']
  series: MinuteSeries
  first: number
  last: number
  actual: RecordedState
  offloadShare: number
  queueMaxLength: number
  from: number
  to: number
  line: string | null
  /** false: a trace, nothing of it was recorded here. @default true */
  recorded?: boolean
}

function replay(o: Replay): WhatIfResult {
  const { s, series, first, last, actual, from, to } = o
  let floor: Float64Array | undefined
  let present: Float64Array | undefined
  if (s.predictive.enabled) {
    const forecaster = new Forecaster(series, { calendar: s.calendar, trainUntil: first })
    floor = new Float64Array(last)
    present = new Float64Array(last)
    for (let i = first; i < last; i++) {
      const at = series.start + i * MINUTE_MS
      floor[i] = forecaster.peakFps(at, s.predictive.leadMinutes)
      present[i] = forecaster.expectedFps(at, at)
    }
  }

  const recordedWorkers = actual.workers[first] ?? 0
  const backlogThreshold = 2 * s.workerCapacityFps
  const sim = simulate({
    demand: series.total,
    start: series.start,
    from: first,
    to: last,
    settings: s,
    ...(floor && present ? { forecastFps: (slot: number) => floor[slot], forecastNowFps: (slot: number) => present[slot] } : {}),
    startSeconds: [s.workerStartSeconds, s.workerStartSeconds],
    seed: 1,
    initialWorkers: Math.min(s.maxWorkers, Math.max(s.minWorkers, recordedWorkers)),
    offloadShare: o.offloadShare,
    backlogThreshold,
    queueMaxLength: o.queueMaxLength,
  })

  const points: WhatIfPoint[] = []
  let recordedMinutes = 0
  let actualBacklog = 0
  let actualWorkerMinutes = 0
  let actualMaxQueue = 0
  for (let i = first; i < last; i++) {
    const m = i - first
    const recorded = o.recorded !== false && series.recorded[i] === 1
    if (recorded) {
      recordedMinutes++
      actualWorkerMinutes += actual.workers[i]!
      actualMaxQueue = Math.max(actualMaxQueue, actual.queueDepthMax[i]!)
      if (actual.queueDepthMax[i]! > backlogThreshold) actualBacklog++
    }
    points.push({
      minute: series.start + i * MINUTE_MS,
      demandFps: round(series.total[i]! / 60),
      simulated: {
        workers: sim.minutes.workers[m]!,
        ready: round(sim.minutes.ready[m]!),
        queueMax: round(sim.minutes.queueMax[m]!),
        p95Ms: round(sim.minutes.p95Ms[m]!),
        offload: sim.minutes.offload[m] === 1,
      },
      actual: recorded ? { workers: actual.workers[i]!, queueDepthMax: actual.queueDepthMax[i]!, p95Ms: actual.p95Ms[i]! } : null,
    })
  }
  return {
    from,
    to,
    line: o.line,
    backlogThreshold,
    points,
    simulated: {
      backlogMinutes: sim.backlogMinutes,
      workerMinutes: round(sim.workerMinutes),
      maxQueue: round(sim.maxQueue),
      offloadMinutes: sim.offloadMinutes,
      refusedFrames: Math.round(sim.refusedFrames),
    },
    actual: { backlogMinutes: actualBacklog, workerMinutes: round(actualWorkerMinutes), maxQueue: actualMaxQueue },
    recordedMinutes,
  }
}

const round = (v: number) => Math.round(v * 10) / 10
