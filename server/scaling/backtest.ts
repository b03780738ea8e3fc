/**
 * `npm run scaling:backtest -- [--json] [options]`: how good is the forecast, and what does the
 * predictive policy buy over a reactive-only one?
 *
 * Load: the recorded history when the store holds at least 14 days of it (`--source store`, or
 * `auto`, the default), else the synthetic plant (synthetic-plant.ts; `--source synthetic`).
 * The last `--eval-days` (7) days are scored: the forecast's MAPE `leadMinutes` ahead on minutes
 * with load, then a simulation (simulate.ts) of those days predictive vs reactive-only, with the
 * same worker start delays: minutes of backlog and worker-minutes spent.
 *
 * Or the plant's own load from outside linesight: `--trace FILE.csv [--unit per-step|per-second]`
 * (`timestamp,value` rows at a regular step of 1 to 60 minutes, trace.ts), or a Prometheus range
 * query, `--prometheus URL --query 'sum(rate(...[5m]))' [--days 35] [--step 60]` (frames/s; a
 * bearer token from PROMETHEUS_TOKEN), or `--source seasonal` (seasonal-load.ts: a smooth
 * synthetic daily curve, `--days 35`, `--event-day N`).
 *
 * `--learn-headroom`: the headroom that pays is learned on the history before the evaluated days
 * (the same backtest one evaluation span earlier, for each of HEADROOM_CANDIDATES), then used
 * for the evaluated days, which it never saw; with `--save` (recorded history only) it is
 * written into the stored `scaling` settings (audited as `cli:scaling:backtest`).
 *
 * Options: --seed N (1), --weeks N (5, synthetic), --start MIN-MAX seconds (30-90), --capacity
 * fps per worker (10), --min N (1), --max N (12), --lead minutes, --backlog frames (2 s of one
 * worker's work, 2 x capacity, as in the what-if replay),
 * --mape-min-fps (1), --no-calendar (the synthetic plant's calendar is used otherwise).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ScalingSettingsSchema, type ScalingSettings } from '../../shared/domain/scaling.ts'
import { loadConfig } from '../config/index.ts'
import { openStore } from '../storage/index.ts'
import { SQLITE_FILE } from '../storage/sqlite.ts'
import { learnHeadroom, runBacktest, type LearnedHeadroom } from './backtest-run.ts'
import { defaultScalingSettings } from './defaults.ts'
import { toSeries, type MinuteSeries } from './series.ts'
import { syntheticPlant } from './synthetic-plant.ts'
import { traceFromPrometheus } from './prometheus-source.ts'
import { seasonalLoad } from './seasonal-load.ts'
import { traceFromCsv, type TraceUnit } from './trace.ts'

const DAY_MS = 86_400_000
const MIN_RECORDED_DAYS = 14

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    source: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    weeks: { type: 'string', default: '5' },
    'eval-days': { type: 'string', default: '7' },
    start: { type: 'string', default: '30-90' },
    capacity: { type: 'string' },
    min: { type: 'string' },
    max: { type: 'string' },
    lead: { type: 'string' },
    backlog: { type: 'string' },
    'mape-min-fps': { type: 'string', default: '1' },
    'no-calendar': { type: 'boolean', default: false },
    trace: { type: 'string' },
    unit: { type: 'string', default: 'per-step' },
    prometheus: { type: 'string' },
    query: { type: 'string' },
    days: { type: 'string' },
    step: { type: 'string', default: '60' },
    'event-day': { type: 'string' },
    'learn-headroom': { type: 'boolean', default: false },
    save: { type: 'boolean', default: false },
  },
})

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`)
  return n
}

interface Loaded {
  source: 'store' | 'synthetic' | 'trace' | 'prometheus' | 'seasonal'
  series: MinuteSeries
  settings: ScalingSettings
}

async function fromStore(): Promise<Loaded | undefined> {
  const config = loadConfig()
  if (!config.databaseUrl && !existsSync(join(resolve(config.dataDir), SQLITE_FILE))) return undefined
  const store = await openStore({ ...config, dataDir: resolve(config.dataDir) })
  try {
    const to = Math.floor(Date.now() / 60_000) * 60_000
    const from = to - 35 * DAY_MS
    const samples = await store.loadHistory.range(from, to)
    if (!samples.length) return undefined
    const first = samples[0]!.minute
    if (to - first < MIN_RECORDED_DAYS * DAY_MS) return undefined
    const doc = await store.settings.get('scaling')
    const saved = doc ? ScalingSettingsSchema.safeParse(doc.value) : undefined
    return { source: 'store', series: toSeries(samples, first, to), settings: saved?.success ? saved.data : defaultScalingSettings(config) }
  } finally {
    await store.close()
  }
}

function synthetic(seed: number, weeks: number, calendar: boolean): Loaded {
  const plant = syntheticPlant({ seed, weeks })
  const base = defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 12, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 })
  return { source: 'synthetic', series: plant, settings: calendar ? { ...base, calendar: plant.calendar } : base }
}

/** A load from outside linesight has no saved settings: the synthetic plant's worker model, overridable by flag. */
function outsideSettings(): ScalingSettings {
  return defaultScalingSettings({ scalingMinWorkers: 1, scalingMaxWorkers: 12, scalingWorkerCapacityFps: 10, scalingWorkerStartSeconds: 60 })
}

async function outside(seed: number): Promise<Loaded | undefined> {
  if (args.trace !== undefined) {
    const unit = args.unit
    if (unit !== 'per-step' && unit !== 'per-second') throw new Error('--unit must be per-step or per-second')
    const trace = traceFromCsv(readFileSync(args.trace, 'utf8'), unit as TraceUnit)
    return { source: 'trace', series: trace.series, settings: outsideSettings() }
  }
  if (args.prometheus !== undefined) {
    if (!args.query) throw new Error('--prometheus needs --query (frames/s, e.g. sum(rate(linesight_frames_received_total[5m])))')
    const to = Math.floor(Date.now() / 60_000) * 60_000
    const days = num('days', args.days) ?? 35
    const trace = await traceFromPrometheus({ url: args.prometheus, query: args.query, from: to - days * DAY_MS, to, stepSeconds: num('step', args.step)!, token: process.env.PROMETHEUS_TOKEN })
    return { source: 'prometheus', series: trace.series, settings: outsideSettings() }
  }
  if (args.source === 'seasonal') {
    const eventDay = num('event-day', args['event-day'])
    return { source: 'seasonal', series: seasonalLoad({ seed, days: num('days', args.days) ?? 35, ...(eventDay !== undefined ? { eventDay } : {}) }), settings: outsideSettings() }
  }
  return undefined
}

/** The first `length` minutes of a series. */
function head(series: MinuteSeries, length: number): MinuteSeries {
  const lines = new Map([...series.lines].map(([k, v]) => [k, v.subarray(0, length)]))
  return { start: series.start, length, lines, total: series.total.subarray(0, length), recorded: series.recorded.subarray(0, length) }
}

async function saveHeadroom(loaded: Loaded, headroom: number): Promise<void> {
  if (loaded.source !== 'store') throw new Error('--save writes the stored settings: it needs the recorded history (--source store)')
  const config = loadConfig()
  const store = await openStore({ ...config, dataDir: resolve(config.dataDir) })
  try {
    const doc = await store.settings.get('scaling')
    const saved = doc ? ScalingSettingsSchema.safeParse(doc.value) : undefined
    const base = saved?.success ? saved.data : loaded.settings
    await store.settings.put('scaling', ScalingSettingsSchema.parse({ ...base, predictive: { ...base.predictive, headroom } }), 'cli:scaling:backtest')
  } finally {
    await store.close()
  }
}

async function main(): Promise<void> {
  const seed = num('seed', args.seed)!
  const [startMin, startMax] = (args.start ?? '').split('-').map(Number)
  if (!Number.isFinite(startMin) || !Number.isFinite(startMax) || startMin! > startMax!) throw new Error('--start must look like 30-90 (seconds)')
  const wanted = args.source
  if (wanted !== 'auto' && wanted !== 'store' && wanted !== 'synthetic' && wanted !== 'seasonal') throw new Error('--source must be auto, store, synthetic or seasonal')
  let loaded = await outside(seed)
  if (!loaded && wanted !== 'synthetic') loaded = await fromStore()
  if (!loaded && wanted === 'store') throw new Error(`the store holds less than ${MIN_RECORDED_DAYS} days of load history`)
  loaded ??= synthetic(seed, num('weeks', args.weeks)!, !args['no-calendar'])

  const s = loaded.settings
  const capacity = num('capacity', args.capacity) ?? s.workerCapacityFps
  const min = num('min', args.min) ?? s.minWorkers
  const max = num('max', args.max) ?? s.maxWorkers
  const lead = num('lead', args.lead) ?? Math.max(s.predictive.leadMinutes, Math.ceil(startMax! / 60) + 1)
  const settings = ScalingSettingsSchema.parse({ ...s, minWorkers: min, maxWorkers: max, workerCapacityFps: capacity, predictive: { ...s.predictive, leadMinutes: lead } })

  const backlogThreshold = num('backlog', args.backlog) ?? 2 * capacity
  const evalDays = num('eval-days', args['eval-days'])!
  const options = { series: loaded.series, settings, evalDays, startSeconds: [startMin!, startMax!] as const, seed, backlogThreshold, mapeMinFps: num('mape-min-fps', args['mape-min-fps'])! }
  let learned: LearnedHeadroom | undefined
  if (args['learn-headroom']) {
    learned = learnHeadroom({ ...options, series: head(loaded.series, loaded.series.length - evalDays * 1440) })
    settings.predictive.headroom = learned.headroom
    if (args.save) await saveHeadroom(loaded, learned.headroom)
  } else if (args.save) throw new Error('--save needs --learn-headroom')
  const result = runBacktest(options)
  const out = {
    ...result,
    ...(learned ? { headroom: learned } : {}),
    source: loaded.source,
    seed,
    days: Math.round(loaded.series.length / 1440),
    evalFrom: new Date(result.evalFrom).toISOString(),
    evalTo: new Date(result.evalTo).toISOString(),
    assumptions: { workerCapacityFps: capacity, workerStartSeconds: [startMin, startMax], minWorkers: min, maxWorkers: max, leadMinutes: lead, backlogThresholdFrames: backlogThreshold, calendar: settings.calendar.shifts.length > 0 },
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return
  }
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`
  process.stdout.write(
    [
      `load: ${out.source} (${out.days} days), evaluated ${out.evalFrom} .. ${out.evalTo}`,
      `forecast MAPE ${lead} min ahead: ${pct(out.mape)} over ${out.mapeMinutes} minutes with >= ${args['mape-min-fps']} frames/s`,
      `                 predictive   reactive`,
      `backlog minutes  ${String(out.backlogMinutes.predictive).padStart(10)} ${String(out.backlogMinutes.reactive).padStart(10)}`,
      `worker-minutes   ${String(out.workerMinutes.predictive).padStart(10)} ${String(out.workerMinutes.reactive).padStart(10)}`,
      `max queue        ${String(out.predictive.maxQueue).padStart(10)} ${String(out.reactive.maxQueue).padStart(10)}`,
      ...(learned ? [`headroom learned on the days before: ${learned.headroom} (${learned.tried.map((t) => `${t.headroom}: ${t.backlogMinutes} backlog min, ${t.workerMinutes} worker-min`).join('; ')})`] : []),
      '',
    ].join('\n'),
  )
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
