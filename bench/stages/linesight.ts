/**
 * A real linesight server process for the end-to-end and gateway-ceiling stages, started the way
 * the integration tests start one (test/helpers/server.ts: its own data folder, free port,
 * embedded queue, SQLite). The inspector is open so one run can be CPU-profiled; the no-op
 * variant swaps in the benchmark double engine (bench/noop) and nothing else.
 */
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { RunningServer, StartOptions } from '../../test/helpers/server.ts'
import { debuggerUrl } from '../profile/inspector.ts'

export interface LinesightServer {
  server: RunningServer
  pid: number
  wsUrl: string
  detectUrl(line: string, station: string): string
  inspectorUrl: string
  stop(): Promise<void>
}

const NOOP_REGISTER = fileURLToPath(new URL('../noop/register.mjs', import.meta.url))

/**
 * `env`: the inference plan (INFERENCE_WORKERS, ...) the engine stage uses too, so both run the
 * same layout. `root`: another checkout of linesight to start instead of this one (bench/compare.ts
 * measures a proposed fix on a copy this way). `nodeOptions`: more NODE_OPTIONS (bench/breakdown.ts's
 * `--perf-basic-prof`).
 */
export async function startLinesight(opts: { noop: boolean; env: Record<string, string>; root?: string; nodeOptions?: string[] }): Promise<LinesightServer> {
  const helper = opts.root ? pathToFileURL(join(opts.root, 'test/helpers/server.ts')).href : '../../test/helpers/server.ts'
  const { startServer } = (await import(helper)) as { startServer: (o: StartOptions) => Promise<RunningServer> }
  // NODE_OPTIONS in `env` (compare.ts --env-b NODE_OPTIONS=...) comes after the benchmark's own
  const nodeOptions = ['--inspect=127.0.0.1:0', ...(opts.noop ? [`--import=${NOOP_REGISTER}`] : []), ...(opts.nodeOptions ?? []), ...(opts.env.NODE_OPTIONS ? [opts.env.NODE_OPTIONS] : [])]
  const server = await startServer({
    env: {
      ...opts.env,
      NODE_OPTIONS: nodeOptions.join(' '),
      // tablets need HTTPS, the benchmark does not: skip generating a certificate
      HTTPS_ENABLED: 'false',
      // `listening` is an info line, and startServer waits for it
      LOG_LEVEL: 'info',
    },
  })
  const inspectorUrl = debuggerUrl(server.logs)
  if (!inspectorUrl) {
    await server.stop()
    throw new Error('the server did not open its inspector (NODE_OPTIONS=--inspect)')
  }
  if (opts.noop && !server.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('BENCHMARK: the no-op inference engine'))) {
    await server.stop()
    throw new Error('the no-op engine did not load (bench/noop/hooks.mjs did not replace server/wiring/engine.ts)')
  }
  return {
    server,
    pid: server.proc.pid!,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/ws/station`,
    detectUrl: (line, station) => `${server.url}/api/v1/detect?line=${line}&station=${station}`,
    inspectorUrl,
    stop: () => server.stop(),
  }
}
