/**
 * `npm start` (and `npm run gateway`, `npm run worker`): parse the configuration once, build the
 * client if it is missing or stale, start, print the URLs, and shut down gracefully on SIGTERM.
 */
import { networkInterfaces } from 'node:os'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { startLinesight } from './app.ts'
import { buildClient, clientIsStale } from './client-build.ts'
import { ConfigError, loadConfig } from './config/index.ts'
import { selectUws } from './gateway/uws.ts'
import { UwsUnavailableError } from './gateway/uws-choice.ts'
import { createLogger } from './log.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(2)
    }
    throw err
  }
  const log = createLogger(config.logLevel)
  // libvips' operation cache (50 MB by default) only helps an image read twice; the main thread's
  // thumbnails, uploads and detect headers read each once. Process-wide: the inference workers
  // set the same (preprocess.ts), but a gateway has none.
  sharp.cache(false)
  if (config.role !== 'worker') {
    try {
      const uws = selectUws(config.uwsAllowJsFallback)
      if (uws.native) log.info({ uws: uws.package, binary: uws.binary, skipped: uws.skipped }, `uWebSockets.js: ${uws.implementation}`)
      else log.warn({ uws: uws.package, skipped: uws.skipped }, `uWebSockets.js is running its slow JavaScript fallback (UWS_ALLOW_JS_FALLBACK=true): ${uws.implementation}`)
    } catch (err) {
      if (!(err instanceof UwsUnavailableError)) throw err
      log.fatal({ skipped: err.skipped }, err.message)
      process.exit(2)
    }
  }

  if (config.role !== 'worker' && config.serveClient && clientIsStale(root)) {
    log.info('building the client (dist/client is missing or older than its sources)')
    await buildClient(root)
  }

  const app = await startLinesight(config, log, { root })
  const { gateway } = app
  if (gateway) {
    log.info({ port: gateway.port, httpsPort: gateway.httpsPort, role: config.role }, 'listening')
    const lan = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address)
    const lines = [`  http://localhost:${gateway.port}/`]
    if (gateway.httpsPort) for (const ip of ['localhost', ...lan]) lines.push(`  https://${ip}:${gateway.httpsPort}/   (tablets: open /station?line=L1&station=S1)`)
    process.stdout.write(`\nlinesight is running (${config.role}):\n${lines.join('\n')}\n\n`)
    if (app.firstAdminSecret) {
      // the token rides in the fragment: browsers never send it, so no proxy or access log sees it
      process.stdout.write(
        `First start: sign in as administrator with this one-time link (it holds the admin token, shown only this once):\n\n  http://localhost:${gateway.port}/admin#token=${app.firstAdminSecret}\n\n` +
          'Then "Add a station" and open its pairing link on the tablet (or on this machine) to start streaming.\n\n',
      )
    }
  } else {
    // the same line as a gateway's: supervisors and tests wait for it to find the port
    log.info({ port: app.workerEndpoint?.port, role: config.role }, 'listening')
    process.stdout.write(`\nlinesight is running (${config.role}): /health, /ready, /metrics on http://localhost:${app.workerEndpoint?.port}/\n\n`)
  }

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down: /ready now answers 503, draining in-flight frames')
    app
      .close()
      .then(() => {
        log.info('stopped')
        process.exit(0)
      })
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
