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
 * Options: --seed N (1), --weeks N (5, synthetic), --start MIN-MAX seconds (30-90), --capacity
 * fps per worker (10), --min N (1), --max N (12), --lead minutes, --backlog frames (2 s of one
 * worker's work, 2 x capacity, as in the what-if replay),
 * --mape-min-fps (1), --no-calendar (the synthetic plant's calendar is used otherwise).
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ScalingSettingsSchema, type ScalingSettings } from '../../shared/domain/scaling.ts'
import { loadConfig } from '../config/index.ts'
import { openStore } from '../storage/index.ts'
import { SQLITE_FILE } from '../storage/sqlite.ts'
import { runBacktest } from './backtest-run.ts'
import { defaultScalingSettings } from './defaults.ts'
import { toSeries, type MinuteSeries } from './series.ts'
import { syntheticPlant } from './synthetic-plant.ts'

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
  },
})

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`)
  return n
}

interface Loaded {
  source: 'store' | 'synthetic'
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

async function main(): Promise<void> {
  const seed = num('seed', args.seed)!
  const [startMin, startMax] = (args.start ?? '').split('-').map(Number)
  if (!Number.isFinite(startMin) || !Number.isFinite(startMax) || startMin! > startMax!) throw new Error('--start must look like 30-90 (seconds)')
  const wanted = args.source
  if (wanted !== 'auto' && wanted !== 'store' && wanted !== 'synthetic') throw new Error('--source must be auto, store or synthetic')
  let loaded = wanted === 'synthetic' ? undefined : await fromStore()
  if (!loaded && wanted === 'store') throw new Error(`the store holds less than ${MIN_RECORDED_DAYS} days of load history`)
  loaded ??= synthetic(seed, num('weeks', args.weeks)!, !args['no-calendar'])

  const s = loaded.settings
  const capacity = num('capacity', args.capacity) ?? s.workerCapacityFps
  const min = num('min', args.min) ?? s.minWorkers
  const max = num('max', args.max) ?? s.maxWorkers
  const lead = num('lead', args.lead) ?? Math.max(s.predictive.leadMinutes, Math.ceil(startMax! / 60) + 1)
  const settings = ScalingSettingsSchema.parse({ ...s, minWorkers: min, maxWorkers: max, workerCapacityFps: capacity, predictive: { ...s.predictive, leadMinutes: lead } })

  const backlogThreshold = num('backlog', args.backlog) ?? 2 * capacity
  const result = runBacktest({
    series: loaded.series,
    settings,
    evalDays: num('eval-days', args['eval-days'])!,
    startSeconds: [startMin!, startMax!],
    seed,
    backlogThreshold,
    mapeMinFps: num('mape-min-fps', args['mape-min-fps'])!,
  })
  const out = {
    ...result,
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
      '',
    ].join('\n'),
  )
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
