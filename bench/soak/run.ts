/**
 * `npm run soak -- --minutes N [--json]`: the soak (soak.ts) on loopback, bounded to 1..240
 * minutes; prints a summary, or the report as JSON.
 * Options: --stations N (2) --station-fps F (2) --kiosks N (2) --detect-fps F (1) --no-browser
 * --server-env NAME=VALUE (repeatable: the server process's environment, e.g. MALLOC_ARENA_MAX=2).
 */
import { parseArgs } from 'node:util'
import { runSoak } from './soak.ts'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    stations: { type: 'string', default: '2' },
    'station-fps': { type: 'string', default: '2' },
    kiosks: { type: 'string', default: '2' },
    'detect-fps': { type: 'string', default: '1' },
    'no-browser': { type: 'boolean', default: false },
    'server-env': { type: 'string', multiple: true, default: [] },
  },
})

function num(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${v}"`)
  return n
}

async function main(): Promise<void> {
  const report = await runSoak({
    minutes: num('minutes', args.minutes, 1, 240),
    stations: num('stations', args.stations, 0, 100),
    stationFps: num('station-fps', args['station-fps'], 0.1, 100),
    kiosks: num('kiosks', args.kiosks, 0, 100),
    detectFps: num('detect-fps', args['detect-fps'], 0, 100),
    browser: !args['no-browser'],
    serverEnv: Object.fromEntries(
      args['server-env'].map((kv) => {
        const at = kv.indexOf('=')
        if (at < 1) throw new Error(`--server-env takes NAME=VALUE, got "${kv}"`)
        return [kv.slice(0, at), kv.slice(at + 1)]
      }),
    ),
    log: (l) => process.stderr.write(`${l}\n`),
  })
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return
  }
  const f = report.frames
  const lines = [
    `soak ${report.minutes} min, ${report.samples} samples`,
    `frames: sent ${f.sent}, recorded ${f.recorded}, lost ${f.lost}, duplicated ${f.duplicated} (busy ${f.busy}, rejected ${f.rejected})`,
    ...(report.browserStation ? [`browser station: recorded ${report.browserStation.recorded}, duplicated ${report.browserStation.duplicated}, outbox left ${report.browserStation.outboxPending}`] : []),
    `http detect: ${report.http.ok}/${report.http.sent} ok, ${report.http.busy} busy, ${report.http.failed} failed`,
    ...Object.entries(report.memory).map(([k, m]) => `${k.padEnd(14)} ${m.startMb} -> ${m.endMb} MB, ${m.slopeMbPerMin} MB/min after warm-up`),
    ...Object.entries(report.domNodes).map(([k, d]) => `${`${k} DOM`.padEnd(14)} ${d.start} -> ${d.end} nodes, ${d.slopePerMin}/min`),
    `p99 latency    ${report.latencyP99Ms.first} -> ${report.latencyP99Ms.last} ms (first vs last third)`,
    `fds            ${report.fileDescriptors.start} -> ${report.fileDescriptors.end}, ${report.fileDescriptors.slopePerMin}/min`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
