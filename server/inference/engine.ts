/**
 * The inference engine the pipeline calls: registry (which version serves) + worker pool (where
 * frames run) + watcher (new versions on disk). `createInferenceEngine` starts it from the config.
 */
import { stat } from 'node:fs/promises'
import os from 'node:os'
import { pino } from 'pino'
import type { TestHooks } from './messages.ts'
import { ModelsWatcher } from './models-watcher.ts'
import { planThreads, type ThreadPlan } from './plan.ts'
import { WorkerPool } from './pool.ts'
import { installHint } from './providers.ts'
import { ModelRegistry } from './registry.ts'
import {
  InferenceError,
  ModelLoadError,
  type EngineHooks,
  type EngineLog,
  type EngineStatus,
  type FullFrameDecoder,
  type InferOutcome,
  type InferRequest,
  type LoadedModel,
  type ManagedInferenceEngine,
} from './types.ts'
import type { RestartPolicy } from './watchdog.ts'

/** The settings the engine reads (a subset of server/config's Config). */
export interface EngineSettings {
  modelsDir: string
  defaultModel: string
  workers?: number | undefined
  threadsPerWorker?: number | undefined
  executionProviders: readonly string[]
  epFallback: boolean
  batchMaxSize: number
  batchMaxDelayMs: number
  watchdogTimeoutMs: number
  maxPixels: number
  /** FULL_FRAME_DECODER. @default 'libvips' */
  fullFrameDecoder?: FullFrameDecoder | undefined
  modelsWatch: boolean
  modelsWatchDebounceMs: number
  watchdogMaxRestartsPerMinute: number
}

export interface EngineOptions {
  settings: EngineSettings
  log?: EngineLog
  hooks?: EngineHooks
  /** Cores to plan threads for. @default os.availableParallelism() */
  cores?: number
  restartPolicy?: Partial<RestartPolicy>
  /**
   * `all` (verdicts): every detector in the models folder is loaded at start. `on-demand`
   * (candidate models): none is; a model is loaded the first time a frame asks for it, the
   * watcher follows only the models loaded, and `retain` unloads the ones no longer wanted.
   * @default 'all'
   */
  models?: 'all' | 'on-demand'
  /** Background workers: lowest CPU priority, no thumbnails (see WorkerInit.background). */
  background?: boolean
  /** Test-only; see PoolOptions.testHooks. */
  testHooks?: TestHooks
}

export class PoolInferenceEngine implements ManagedInferenceEngine {
  #closed = false

  constructor(
    readonly settings: EngineSettings,
    readonly plan: ThreadPlan,
    private readonly pool: WorkerPool,
    private readonly registry: ModelRegistry,
    private readonly watcher: ModelsWatcher | undefined,
    private readonly onDemand = false,
  ) {}

  async infer(req: InferRequest): Promise<InferOutcome> {
    if (this.#closed) throw new InferenceError('closed', 'the inference engine is closing', false)
    const name = req.model ?? this.settings.defaultModel
    let v = this.registry.acquire(name)
    if (!v && this.onDemand) {
      await this.registry.reload(name) // a ModelLoadError names the file
      if (this.#closed) throw new InferenceError('closed', 'the inference engine is closing', false)
      v = this.registry.acquire(name)
    }
    if (!v) {
      const serving = this.registry.list().map((m) => m.name).join(', ') || 'none'
      throw new InferenceError('unknown_model', `no model "${name}" is serving (serving: ${serving})`, true)
    }
    try {
      const r = await this.pool.submit(v.key, { frameId: req.frameId, image: req.image, ...(req.scoreThresholds ? { scoreThresholds: req.scoreThresholds } : {}) })
      return {
        detections: r.frame.detections,
        width: r.frame.width,
        height: r.frame.height,
        model: { name: v.name, version: v.version },
        ep: v.ep,
        defectClasses: v.manifest.defectClasses,
        batchSize: r.batchSize,
        timings: { decode: r.frame.decodeMs, infer: r.inferMs, postprocess: r.frame.postprocessMs },
        ...(r.frame.image ? { image: r.frame.image } : {}),
        ...(r.frame.thumbnail ? { thumbnail: r.frame.thumbnail } : {}),
      }
    } finally {
      this.registry.release(v)
    }
  }

  status(): EngineStatus {
    const p = this.pool.status()
    return {
      workers: p.workers,
      busyWorkers: p.busyWorkers,
      models: this.registry.list().map((m) => ({ name: m.name, version: m.version, ep: m.ep })),
      providerErrors: this.registry.providerErrors(),
      inferMs: p.inferMs,
    }
  }

  reload(name: string): Promise<LoadedModel> {
    if (this.#closed) return Promise.reject(new InferenceError('closed', 'the inference engine is closing', false))
    return this.registry.reload(name)
  }

  setWorkers(n: number): Promise<void> {
    return this.pool.setWorkers(n)
  }

  models(): LoadedModel[] {
    return this.registry.list()
  }

  /** Unloads every serving model not named in `names` (an on-demand engine's models nobody asks for any more). */
  async retain(names: ReadonlySet<string>): Promise<void> {
    // names with a load in progress too: it finishes first, then the version is unloaded
    await Promise.all(this.registry.names().filter((n) => !names.has(n)).map((n) => this.registry.unload(n)))
  }

  /** Each worker's thread id and nice value where it lowered its priority (background engines). */
  threads(): ReturnType<WorkerPool['threads']> {
    return this.pool.threads()
  }

  /** Serving versions, and replaced ones still draining (for the admin page and for tests). */
  versions(): ReturnType<ModelRegistry['versions']> {
    return this.registry.versions()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.watcher?.close()
    await this.registry.settle()
    await this.pool.close()
  }
}

/**
 * Starts the workers and loads every model (an `on-demand` engine: none yet). Fails when a provider asked for is missing and
 * INFERENCE_EP_FALLBACK is off (a misconfigured GPU host must not quietly serve nothing); a model
 * refused for any other reason is logged and the others serve.
 */
export async function createInferenceEngine(opts: EngineOptions): Promise<PoolInferenceEngine> {
  const s = opts.settings
  const log: EngineLog = opts.log ?? pino({ name: 'inference' })
  const onDemand = opts.models === 'on-demand'
  const plan = planThreads(opts.cores ?? os.availableParallelism(), s.workers, s.threadsPerWorker)
  if (plan.workers < 1) throw new RangeError('the inference engine needs at least one worker (INFERENCE_WORKERS=0 is a gateway-only process)')
  log.info({ workers: plan.workers, threadsPerWorker: plan.threadsPerWorker, eps: s.executionProviders, batchMaxSize: s.batchMaxSize, background: !!opts.background }, `inference plan: ${plan.reason}`)

  // libuv's thread pool (sharp's decodes run there) is one per process, its threads started by the
  // first thread that needs them, with that thread's priority: start it here, at normal priority,
  // so that no background worker ever starts it and no verdict decode inherits nice 19.
  if (opts.background) await stat(s.modelsDir).catch(() => undefined)
  const pool = new WorkerPool({
    workers: plan.workers,
    threadsPerWorker: plan.threadsPerWorker,
    maxPixels: s.maxPixels,
    fullFrameDecoder: s.fullFrameDecoder,
    eps: s.executionProviders,
    epFallback: s.epFallback,
    batch: { maxSize: s.batchMaxSize, maxDelayMs: s.batchMaxDelayMs },
    watchdogTimeoutMs: s.watchdogTimeoutMs,
    restartPolicy: { maxPerWindow: s.watchdogMaxRestartsPerMinute, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 60_000, ...opts.restartPolicy },
    log,
    ...(opts.background ? { background: true } : {}),
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    ...(opts.testHooks ? { testHooks: opts.testHooks } : {}),
  })
  await pool.start()
  const registry = new ModelRegistry({ dir: s.modelsDir, pool, log, ...(opts.hooks ? { hooks: opts.hooks } : {}) })
  if (!onDemand) await loadEveryModel(registry, pool, s, log)
  let watcher: ModelsWatcher | undefined
  if (s.modelsWatch) {
    watcher = new ModelsWatcher(s.modelsDir, s.modelsWatchDebounceMs, (name) => {
      // an on-demand engine follows new versions of what it serves and loads nothing else
      if (onDemand && !registry.serves(name)) return
      // Refusals are logged and reported (onModelRejected) by the registry; the running version stays.
      void registry.folderChanged(name).catch(() => undefined)
    }, log)
    await watcher.start()
  }
  return new PoolInferenceEngine(s, plan, pool, registry, watcher, onDemand)
}

async function loadEveryModel(registry: ModelRegistry, pool: WorkerPool, s: EngineSettings, log: EngineLog): Promise<void> {
  try {
    const { loaded, failed } = await registry.loadAll()
    const providerFailures = failed.filter((f) => f.error.code === 'provider_unavailable')
    if (providerFailures.length) {
      throw new ProviderStartupError(s.executionProviders, providerFailures.map((f) => f.error))
    }
    for (const f of registry.providerErrors()) {
      log.warn({ ep: f.ep, hint: installHint(f.ep) ?? null }, `execution provider ${f.ep} is unavailable, fell back (INFERENCE_EP_FALLBACK=true): ${f.error}`)
    }
    if (!loaded.some((m) => m.name === s.defaultModel)) {
      log.error({ model: s.defaultModel, dir: s.modelsDir }, `the default model (LINESIGHT_DEFAULT_MODEL=${s.defaultModel}) is not serving; frames without a model will be refused`)
    }
  } catch (e) {
    await pool.close()
    throw e
  }
}

export class ProviderStartupError extends Error {
  override name = 'ProviderStartupError'
  readonly code = 'provider_unavailable'
  constructor(eps: readonly string[], errors: ModelLoadError[]) {
    const hints = [...new Set(eps.map(installHint).filter((h): h is string => !!h))]
    super(
      `INFERENCE_EPS=${eps.join(',')} cannot load and INFERENCE_EP_FALLBACK is off:\n  ${errors.map((e) => e.message).join('\n  ')}` +
        (hints.length ? `\nTo install: ${hints.join('\n  ')}` : ''),
    )
  }
}

