/**
 * `npm run scaling:trace -- [--seed 1] [--days 21] [--step 30] [--event-day N]`: a SYNTHETIC
 * smooth daily-seasonal load (seasonal-load.ts) as `timestamp,value` CSV on stdout, frames per
 * step, for `scaling:backtest --trace` and the what-if panel. It is a stand-in for a real trace:
 * see seasonal-load.ts for how it is shaped and how it differs from the synthetic plant.
 */
import { parseArgs } from 'node:util'
import { seasonalLoad } from './seasonal-load.ts'
import { seriesToCsv } from './trace.ts'

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '21' },
    step: { type: 'string', default: '30' },
    'event-day': { type: 'string' },
  },
})

const int = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be a whole number from ${min} to ${max}, got "${v}"\n`)
    process.exit(1)
  }
  return n
}

const step = int('step', args.step, 1, 60)
const eventDay = args['event-day'] === undefined ? undefined : int('event-day', args['event-day'], 0, 365)
const series = seasonalLoad({ seed: int('seed', args.seed, 0, 2 ** 32 - 1), days: int('days', args.days, 1, 120), ...(eventDay !== undefined ? { eventDay } : {}) })
process.stdout.write(seriesToCsv(series.total, series.start, step))
