/**
 * The composition root: builds one linesight process from its configuration. `LINESIGHT_ROLE`
 * decides which halves run: `all` (the embedded default: gateway + inference in one process),
 * `gateway` (accepts frames, serves clients) or `worker` (inference only).
 */
import { resolve } from 'node:path'
import { inputSize } from '../shared/domain/manifest.ts'
import { LineSettingsService, lineDefaults } from './lines/line-settings.ts'
import { dataDirHealth, readiness } from './api/health.ts'
import { allRoutes } from './api/routes.ts'
import { Authenticator } from './auth/authenticate.ts'
import type { Principal } from './auth/principal.ts'
import { REVOKED_CLOSE_CODE, REVOKED_REASON, securityHeaders } from './auth/headers.ts'
import { HttpError } from './errors.ts'
import { errorReply } from './gateway/http.ts'
import type { Config } from './config/index.ts'
import type { Core } from './core.ts'
import { startGateway, type Gateway } from './gateway/server.ts'
import { ensureTls } from './gateway/tls.ts'
import { selectUws } from './gateway/uws.ts'
import { FrameIngest } from './ingest/ingest.ts'
import { evidenceDeps } from './ingest/evidence.ts'
import type { Logger } from './log.ts'
import { startGpuMetrics } from './metrics/gpu.ts'
import { createMetrics } from './metrics/metrics.ts'
import { startWorkerEndpoint, type WorkerEndpoint } from './metrics/worker-endpoint.ts'
import { ModelCatalog } from './models/catalog.ts'
import { ResultHub } from './results/hub.ts'
import { LoadTracker } from './metrics/load.ts'
import { Processor } from './inference/processor.ts'
import { PartTracker } from './parts/tracker.ts'
import { stationInspection } from '../shared/domain/inspection.ts'
import { Recorder } from './results/recorder.ts'
import { ReviewService } from './review/service.ts'
import { ShadowRunner } from './candidates/shadow.ts'
import { watchForReview } from './review/wiring.ts'
import { recordDeadLetters } from './results/dead-letters.ts'
import { fanOutResults } from './results/fan-out.ts'
import { startLoadReports } from './metrics/load-reports.ts'
import { startResultRecovery } from './ingest/result-recovery.ts'
import { corsHeaders } from './auth/cors.ts'
import { openCandidateEngine, openEngine } from './wiring/engine.ts'
import { openQueue } from './wiring/queue.ts'
import { openStorage } from './wiring/storage.ts'
import { createUploads } from './uploads/index.ts'
import { startScaling } from './scaling/index.ts'
import { startOutputs } from './outputs/index.ts'
import type { ModeOf } from './outputs/types.ts'
import type { PartEvents, PartTrigger } from './parts/contract.ts'

export interface Linesight {
  core: Core
  gateway?: Gateway
  /** The admin token made on this first start (none existed): main.ts prints it once as a sign-in link. */
  firstAdminSecret?: string
  /** A worker's /health, /ready and /metrics (LINESIGHT_ROLE=worker), on PORT. */
  workerEndpoint?: WorkerEndpoint
  /**
   * Graceful: /ready turns 503 and a gateway keeps serving for SHUTDOWN_DRAIN_MS, consuming
   * stops, in-flight frames finish and are acknowledged, then everything closes.
   */
  close(): Promise<void>
}

const LOAD_INTERVAL_MS = 500
/** How often a gateway looks for tokens of its open sockets revoked elsewhere, ms. */
const REVOCATION_CHECK_MS = 1000

export interface LinesightOptions {
  root: string
  /** Part tracking (server/parts/), for the plant outputs: closed parts and triggers from MQTT and OPC UA. */
  parts?: { events?: PartEvents; trigger?: PartTrigger; modeOf?: ModeOf }
}

export async function startLinesight(config: Config, log: Logger, opts: LinesightOptions): Promise<Linesight> {
  // first: a gateway that cannot serve at native speed refuses to start before opening anything
  const uws = config.role === 'worker' ? undefined : selectUws(config.uwsAllowJsFallback)
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
  // parts are tracked where stations and HTTP clients are served; sendTrigger reaches the gateway's stations once it runs
  let sendTrigger: (line: string, station: string, m: { partId: string; frames: number }) => boolean = () => false
  const parts =
    config.role === 'worker'
      ? undefined
      : new PartTracker({
          store: storage.store.parts,
          inspection: (line, station) => stationInspection(settings.get(line).inspection, station),
          defectClasses: (model) => {
            const m = models.get(model)?.manifest
            return m?.task === 'detect' ? m.defectClasses : undefined
          },
          sendTrigger: (line, station, m) => sendTrigger(line, station, m),
          idleMs: config.partIdleMs,
          log,
        })
  const review = new ReviewService({ reviews: storage.store.reviews, metrics, log })
  const stopReviewWatch = watchForReview({ recorder, review, settings, models, margin: config.reviewNearThresholdMargin })
  const unsubscribe = fanOutResults(bus, { hub, settings, load, parts })
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
    review,
    accepting: true,
    ...(parts ? { parts } : {}),
    uws,
  }
  // before the processor starts: job frames are counted from the first one recorded
  core.uploads = await createUploads(core)

  let shadow: ShadowRunner | undefined
  if (config.role !== 'gateway') {
    const engine = await openEngine(config, log, metrics, resolve(opts.root, config.modelsDir))
    core.engine = engine
    // candidates run on workers of their own, never on the ones serving verdicts
    const candidateEngine = await openCandidateEngine(config, log, metrics, resolve(opts.root, config.modelsDir)).catch((err: unknown) => {
      log.error({ err }, 'the candidate workers did not start: no candidate model runs in shadow; verdicts are not affected')
      return undefined
    })
    if (candidateEngine) core.candidateEngine = candidateEngine
    shadow = candidateEngine
      ? new ShadowRunner({
          engine: candidateEngine,
          candidates: storage.store.candidates,
          settings,
          metrics,
          review,
          maxInFlight: config.candidateMaxInFlight,
          liveInFlight: () => processor.inFlight,
          log,
        })
      : undefined
    // a record that failed while the database is down or the data folder is full is held, not nacked
    const pingStore = async () => {
      await storage.store.ping()
      const disk = await dataDirHealth(core)
      if (!disk.ready) throw new Error(`the data folder has ${disk.freeBytes ?? '?'} bytes free, under DATA_MIN_FREE_MB`)
    }
    const processor: Processor = new Processor({ queue, engine, recorder, settings, metrics, load, log, ...(shadow ? { shadow } : {}), pingStore })
    core.processor = processor
    const status = engine.status()
    // enough deliveries in hand to keep every worker's batch full while the next one is decoded
    await processor.start(Math.max(2, status.workers * config.batchMaxSize * 2))
    metrics.workers.set(status.workers)
  }

  let gateway: Gateway | undefined
  let stopRecovery: (() => void) | undefined
  let revocationTimer: NodeJS.Timeout | undefined
  if (config.role !== 'worker') {
    if (!config.authRequired) log.warn('AUTH_REQUIRED=false: anyone on this network may send frames for any line and read every result; admin routes still need a token')
    const auth = new Authenticator(storage.tokens, {
      authRequired: config.authRequired,
      lines: storage.store.lines,
      failuresPerMinute: config.authFailuresPerMinute,
      onFailure: (address, code, limited) => {
        log.warn({ address, code, limited }, limited ? 'failed sign-ins from this address reached the limit' : 'failed sign-in')
        // past the limit nothing is looked at (429), so the audit log grows by at most the limit a minute
        const actor = `address:${address || 'unknown'}`
        for (const action of limited ? ['auth.fail', 'auth.limited'] : ['auth.fail']) {
          storage.store.audit.append({ actor, action, target: code }).catch((err: unknown) => log.error({ err }, 'auditing a failed sign-in failed'))
        }
      },
      onSeen: (tokenId, address, userAgent) => {
        storage.store.devices.seen(tokenId, { address, ...(userAgent ? { userAgent } : {}) }).catch((err: unknown) => log.warn({ err: String(err) }, 'recording when a device was last seen failed'))
      },
    })
    core.auth = auth
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
      uplink: (line: string) => {
        const detector = models.get(settings.get(line).model) ?? models.get(config.defaultModel)
        return detector && detector.manifest.task === 'detect' ? inputSize(detector.manifest) : undefined
      },
      load: (line: string) => load.report(settings.get(line).policy),
      authenticate: (token: string | undefined) => auth.principalFor(token),
      admitLine: async (principal: Principal, line: string) => {
        try {
          await auth.admitLine(principal, line)
          return null
        } catch (err) {
          if (err instanceof HttpError) return { code: err.code, message: err.message }
          throw err
        }
      },
      log,
      ...(parts ? { parts } : {}),
      ...(recovery ? { recovery } : {}),
      onShadowDisagreement: (frameId: string, line: string) => review.enqueueInBackground(frameId, line, 'shadow'),
      evidence: evidenceDeps({ settings, store: storage.store, keepsOriginals: config.storeImages !== 'none' && config.storeOriginals }),
    }
    gateway = await startGateway({
      host: config.host,
      port: config.port,
      ...(tls ? { https: { port: config.httpsPort, certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
      routes: allRoutes(core, clientDir),
      http: {
        authenticate: (h, q, access, address) => auth.authorize(h, q, access, address),
        commonHeaders: (h, secure) => ({ ...securityHeaders(secure), ...corsHeaders(config.corsOrigins, h.origin) }),
        onError: (err, ctx) => log.error({ err, ...ctx }, 'request failed'),
        onReply: (route, status) => metrics.httpRequests.inc({ route, status: `${Math.floor(status / 100)}xx` }),
      },
      ws: {
        station: stationDeps,
        kiosk: { hub, authenticate: (token) => auth.principalFor(token) },
        maxMessageBytes: config.maxFrameBytes + 64 * 1024,
        kioskMaxBufferedBytes: config.kioskMaxBufferedBytes,
        authenticateUpgrade: async (h, q, role, address) => auth.authorize(h, q, role === 'station' ? 'station' : 'read', address),
        onConnections: (role, delta) => metrics.wsConnections.inc({ role }, delta),
        onError: (err, where) => log.error({ err, where }, 'socket handler failed'),
      },
    })
    settings.onChange((s) => {
      for (const st of gateway!.routes.stations) st.sendSettings(s.line)
    })
    const opened = gateway
    core.closeSockets = (tokenId, reason) => opened.closeToken(tokenId, REVOKED_CLOSE_CODE, reason)
    // a device revoked through another gateway: its sockets here close within a second too
    revocationTimer = setInterval(() => {
      const ids = [...opened.routes.byToken.keys()].slice(0, 1000)
      if (!ids.length) return
      storage.store.tokens.revokedAmong(ids).then(
        (revoked) => {
          for (const id of revoked) opened.closeToken(id, REVOKED_CLOSE_CODE, REVOKED_REASON)
        },
        (err: unknown) => log.warn({ err: String(err) }, 'checking open sockets for revoked tokens failed; trying again'),
      )
    }, REVOCATION_CHECK_MS)
    revocationTimer.unref()
    const stations = gateway.routes.stations
    // this process's part tracker, unless a caller (a test) brings its own source of parts
    const partEvents = opts.parts?.events ?? parts
    const partTrigger = opts.parts?.trigger ?? parts
    core.outputs = await startOutputs({
      config,
      dataDir: resolve(opts.root, config.dataDir),
      results: bus,
      ...(partEvents ? { parts: partEvents } : {}),
      ...(partTrigger ? { trigger: partTrigger } : {}),
      modeOf: opts.parts?.modeOf ?? ((line, station) => stationInspection(settings.get(line).inspection, station).mode),
      presence: () => [...stations].flatMap((st) => (st.line && st.station ? [{ line: st.line, station: st.station }] : [])),
      webhooks: storage.store.webhooks,
      authenticate: (secret) => auth.principalFor(secret),
      metrics,
      log,
    })
    sendTrigger = (line, station, m) => {
      let sent = false
      for (const st of stations) if (st.sendTrigger(line, station, m)) sent = true
      return sent
    }
    if (recovery) stopRecovery = startResultRecovery(gateway.routes.stations, recovery.afterMs, log)
  }

  // Probes and scrapes must reach a worker too, on the port a gateway would use; /metrics with a token.
  const workerAuth = new Authenticator(storage.tokens, {
    authRequired: config.authRequired,
    lines: storage.store.lines,
    failuresPerMinute: config.authFailuresPerMinute,
  })
  const workerEndpoint =
    config.role === 'worker'
      ? await startWorkerEndpoint({
          host: config.host,
          port: config.port,
          registry: metrics.registry,
          ready: () => readiness(core),
          authorizeMetrics: async (headers, address) => {
            try {
              await workerAuth.authorize(headers, new URLSearchParams(), 'metrics', address)
              return null
            } catch (err) {
              const reply = errorReply(err)
              return { status: reply.status, headers: reply.headers ?? {}, body: String(reply.body ?? '') }
            }
          },
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
    ...(storage.firstAdminSecret ? { firstAdminSecret: storage.firstAdminSecret } : {}),
    ...(workerEndpoint ? { workerEndpoint } : {}),
    async close() {
      core.accepting = false
      stopLoadReports()
      gpu?.stop()
      clearInterval(revocationTimer)
      stopRecovery?.()
      // /ready answers 503 from here on; sockets stay open until balancers polling it have seen that
      if (gateway && config.shutdownDrainMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
      await scaling.close()
      await core.outputs?.close()
      await core.processor?.close()
      gateway?.close()
      await core.uploads?.close()
      unsubscribe()
      stopReviewWatch()
      await parts?.stop()
      // candidate inferences still running finish and are stored before their engine and the store close
      await shadow?.close()
      await core.candidateEngine?.close()
      await core.engine?.close()
      await queue.close()
      await bus.close()
      await storage.close()
      await workerEndpoint?.close()
    },
  }
}
