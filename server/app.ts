/**
 * The composition root: builds one linesight process from its configuration. `LINESIGHT_ROLE`
 * decides which halves run: `all` (the embedded default: gateway + inference in one process),
 * `gateway` (accepts frames, serves clients) or `worker` (inference only).
 */
import { resolve } from 'node:path'
import { LineSettingsService, lineDefaults } from './lines/line-settings.ts'
import { readiness } from './api/health.ts'
import { allRoutes } from './api/routes.ts'
import { Authenticator } from './auth/authenticate.ts'
import type { Config } from './config/index.ts'
import type { Core } from './core.ts'
import { startGateway, type Gateway } from './gateway/server.ts'
import { ensureTls } from './gateway/tls.ts'
import { uwsImplementation, uwsNative } from './gateway/uws.ts'
import { FrameIngest } from './ingest/ingest.ts'
import type { Logger } from './log.ts'
import { startGpuMetrics } from './metrics/gpu.ts'
import { createMetrics } from './metrics/metrics.ts'
import { startWorkerEndpoint, type WorkerEndpoint } from './metrics/worker-endpoint.ts'
import { ModelCatalog } from './models/catalog.ts'
import { ResultHub } from './results/hub.ts'
import { LoadTracker } from './metrics/load.ts'
import { Processor } from './inference/processor.ts'
import { Recorder } from './results/recorder.ts'
import { recordDeadLetters } from './results/dead-letters.ts'
import { fanOutResults } from './results/fan-out.ts'
import { startLoadReports } from './metrics/load-reports.ts'
import { startResultRecovery } from './ingest/result-recovery.ts'
import { corsHeaders } from './auth/cors.ts'
import { openEngine } from './wiring/engine.ts'
import { openQueue } from './wiring/queue.ts'
import { openStorage } from './wiring/storage.ts'
import { createUploads } from './uploads/index.ts'
import { startScaling } from './scaling/index.ts'

export interface Linesight {
  core: Core
  gateway?: Gateway
  /** A worker's /health, /ready and /metrics (LINESIGHT_ROLE=worker), on PORT. */
  workerEndpoint?: WorkerEndpoint
  /**
   * Graceful: /ready turns 503 and a gateway keeps serving for SHUTDOWN_DRAIN_MS, consuming
   * stops, in-flight frames finish and are acknowledged, then everything closes.
   */
  close(): Promise<void>
}

const LOAD_INTERVAL_MS = 500

export async function startLinesight(config: Config, log: Logger, opts: { root: string }): Promise<Linesight> {
  const metrics = createMetrics()
  // GPU utilisation and memory, only where nvidia-smi exists: never faked on a CPU host
  const gpu = config.role !== 'gateway' ? await startGpuMetrics({ registry: metrics.registry, intervalMs: config.gpuMetricsIntervalMs, log }) : undefined
  if (gpu) log.info({ binary: gpu.binary }, 'GPU metrics from nvidia-smi')
  const models = new ModelCatalog(resolve(opts.root, config.modelsDir))
  await models.refresh()
  for (const e of models.errors) log.error({ path: e.path }, `model refused: ${e.message}`)

  const storage = await openStorage(config, log)
  const { queue, bus } = await openQueue(config, log)
  const prefilter = models.get(config.prefilterModel)?.manifest
  const settings = new LineSettingsService(lineDefaults(config.defaultModel, prefilter?.task === 'prefilter' ? prefilter.thresholds : undefined), storage.settingsPersistence)
  await settings.init()

  const hub = new ResultHub({
    kioskMaxBufferedBytes: config.kioskMaxBufferedBytes,
    onKioskSkipped: () => metrics.kioskSkipped.inc(),
    ...(bus.setInterest ? { setInterest: (lines: readonly string[]) => bus.setInterest!(lines) } : {}),
  })
  const load = new LoadTracker()
  const ingest = new FrameIngest({ queue, hub, metrics, liveFrameTtlMs: config.liveFrameTtlMs })
  const recorder = new Recorder({ store: storage.store, bus, metrics })
  const unsubscribe = fanOutResults(bus, { hub, settings, load })
  recordDeadLetters(queue, { recorder, hub, metrics, log })

  const core: Core = {
    config,
    log,
    metrics,
    queue,
    store: storage.store,
    settings,
    hub,
    ingest,
    recorder,
    load,
    models,
    accepting: true,
    uws: { native: uwsNative, implementation: uwsImplementation },
  }
  // before the processor starts: job frames are counted from the first one recorded
  core.uploads = await createUploads(core)

  if (config.role !== 'gateway') {
    const engine = await openEngine(config, log, metrics, resolve(opts.root, config.modelsDir))
    core.engine = engine
    const processor = new Processor({ queue, engine, recorder, settings, metrics, load, log })
    core.processor = processor
    const status = engine.status()
    // enough deliveries in hand to keep every worker's batch full while the next one is decoded
    await processor.start(Math.max(2, status.workers * config.batchMaxSize * 2))
    metrics.workers.set(status.workers)
  }

  let gateway: Gateway | undefined
  let stopRecovery: (() => void) | undefined
  if (config.role !== 'worker') {
    const auth = new Authenticator(storage.tokens, config.authRequired)
    const tls = config.httpsEnabled
      ? await ensureTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, dataDir: resolve(opts.root, config.dataDir), hostnames: config.tlsHostnames })
      : undefined
    if (tls?.generated) log.info({ fingerprint: tls.fingerprint, names: tls.names, certFile: tls.certFile }, 'generated a self-signed certificate; trust it once on each tablet (README)')
    core.tls = tls
    const clientDir = config.serveClient ? resolve(opts.root, 'dist/client') : undefined
    // only the broker's results bus can miss a result (server/ingest/station-session.ts)
    const recovery =
      queue.kind === 'rabbitmq' && config.resultRecoveryMs > 0
        ? { afterMs: config.resultRecoveryMs, giveUpMs: config.liveFrameTtlMs + 3 * config.resultRecoveryMs, lookup: (frameId: string) => storage.store.get(frameId) }
        : undefined
    const stationDeps = {
      ingest,
      hub,
      recorder,
      settings,
      metrics,
      credit: config.stationCredit,
      maxFrameBytes: config.maxFrameBytes,
      maxPixels: config.maxPixels,
      models: (line: string) => {
        const detector = models.get(settings.get(line).model) ?? models.get(config.defaultModel)
        if (!detector) throw new Error(`no detector model loaded (${config.defaultModel})`)
        const pre = models.get(config.prefilterModel)
        return pre ? { detector: detector.ref, prefilter: pre.ref } : { detector: detector.ref }
      },
      load: (line: string) => load.report(settings.get(line).policy),
      authenticate: (token: string | undefined) => auth.principalFor(token),
      log,
      ...(recovery ? { recovery } : {}),
    }
    gateway = await startGateway({
      host: config.host,
      port: config.port,
      ...(tls ? { https: { port: config.httpsPort, certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
      routes: allRoutes(core, clientDir),
      http: {
        authenticate: (h, q, access) => auth.authorize(h, q, access),
        commonHeaders: (h) => corsHeaders(config.corsOrigins, h.origin),
        onError: (err, ctx) => log.error({ err, ...ctx }, 'request failed'),
        onReply: (route, status) => metrics.httpRequests.inc({ route, status: `${Math.floor(status / 100)}xx` }),
      },
      ws: {
        station: stationDeps,
        kiosk: { hub, authenticate: (token) => auth.principalFor(token) },
        maxMessageBytes: config.maxFrameBytes + 64 * 1024,
        kioskMaxBufferedBytes: config.kioskMaxBufferedBytes,
        authenticateUpgrade: async (h, q, role) => auth.authorize(h, q, role === 'station' ? 'station' : 'read'),
        onConnections: (role, delta) => metrics.wsConnections.inc({ role }, delta),
        onError: (err, where) => log.error({ err, where }, 'socket handler failed'),
      },
    })
    settings.onChange((s) => {
      for (const st of gateway!.routes.stations) st.sendSettings(s.line)
    })
    if (recovery) stopRecovery = startResultRecovery(gateway.routes.stations, recovery.afterMs, log)
  }

  // Probes and scrapes must reach a worker too, on the port a gateway would use.
  const workerEndpoint =
    config.role === 'worker'
      ? await startWorkerEndpoint({
          host: config.host,
          port: config.port,
          registry: metrics.registry,
          ready: () => readiness(core),
          onError: (err, ctx) => log.error({ err, ...ctx }, 'worker endpoint request failed'),
        })
      : undefined

  const stopLoadReports = startLoadReports(
    { queue, load, metrics, log, waiting: () => hub.waiting, workers: () => core.engine?.status().workers, stations: () => gateway?.routes.stations ?? [] },
    LOAD_INTERVAL_MS,
  )
  const scaling = startScaling(core)

  return {
    core,
    gateway,
    ...(workerEndpoint ? { workerEndpoint } : {}),
    async close() {
      core.accepting = false
      stopLoadReports()
      gpu?.stop()
      stopRecovery?.()
      // /ready answers 503 from here on; sockets stay open until balancers polling it have seen that
      if (gateway && config.shutdownDrainMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
      await scaling.close()
      await core.processor?.close()
      gateway?.close()
      await core.uploads?.close()
      unsubscribe()
      await core.engine?.close()
      await queue.close()
      await bus.close()
      await storage.close()
      await workerEndpoint?.close()
    },
  }
}
