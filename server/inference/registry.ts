/**
 * Which model versions serve, and swapping them live.
 *
 * A new version is verified (manifest, sha256, detector output) and warmed up on every worker
 * while the running one keeps serving; then one synchronous assignment makes it the version new
 * frames get. Frames that already hold the old version finish on it (each acquire counts them);
 * when the last one is released its sessions are released in every worker. A version that fails
 * anywhere on the way leaves the running one untouched.
 */
import { readdir } from 'node:fs/promises'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import type { ProviderFailure } from './messages.ts'
import { isModelFolder, manifestTask, readModelFiles } from './model-files.ts'
import type { WorkerPool } from './pool.ts'
import { ModelLoadError, type EngineHooks, type EngineLog, type LoadedModel } from './types.ts'

export interface ModelVersion extends LoadedModel {
  /** The pool's key for this exact load; unique even if a version is loaded, replaced and loaded again. */
  key: string
  file: string
  inflight: number
  retiring: boolean
}

export interface RegistryOptions {
  dir: string
  pool: WorkerPool
  log: EngineLog
  hooks?: EngineHooks
}

let nextLoad = 1

export class ModelRegistry {
  readonly #active = new Map<string, ModelVersion>()
  /** Loads of one name run one after the other; different names may overlap. */
  readonly #chains = new Map<string, Promise<unknown>>()
  readonly #providerErrors = new Map<string, ProviderFailure>()
  /** Replaced versions still finishing frames, until their sessions are released. */
  readonly #draining = new Set<ModelVersion>()

  constructor(readonly opts: RegistryOptions) {}

  /** Loads every detector's folder (prefilter models are the browser's); a refused one is reported and the others still load. */
  async loadAll(): Promise<{ loaded: LoadedModel[]; failed: { name: string; error: ModelLoadError }[] }> {
    const loaded: LoadedModel[] = []
    const failed: { name: string; error: ModelLoadError }[] = []
    const names = (await readdir(this.opts.dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    for (const name of names) {
      if (!(await isModelFolder(this.opts.dir, name))) continue
      if ((await manifestTask(this.opts.dir, name)) === 'prefilter') continue
      try {
        loaded.push(await this.reload(name))
      } catch (e) {
        if (!(e instanceof ModelLoadError)) throw e
        failed.push({ name, error: e })
      }
    }
    return { loaded, failed }
  }

  /**
   * Loads `<dir>/<name>/` and swaps it in. Resolves with the version serving afterwards: the
   * running one when the files have not changed. Rejects with a ModelLoadError naming the file.
   */
  reload(name: string): Promise<LoadedModel> {
    const prev = this.#chains.get(name) ?? Promise.resolve()
    const next = prev.catch(() => undefined).then(() => this.#load(name))
    this.#chains.set(name, next)
    return next
  }

  /** The watcher's entry: like reload, but a prefilter folder (the browser's model) is none of the engine's business. */
  async folderChanged(name: string): Promise<LoadedModel | undefined> {
    if ((await manifestTask(this.opts.dir, name)) === 'prefilter') return undefined
    return this.reload(name)
  }

  async #load(name: string): Promise<LoadedModel> {
    try {
      const files = await readModelFiles(this.opts.dir, name)
      if (files.manifest.task !== 'detect') {
        throw new ModelLoadError('not_a_detector', `${files.manifestPath}: task "${files.manifest.task}" runs in the browser, not in the inference engine`)
      }
      const manifest: DetectManifest = files.manifest
      const current = this.#active.get(name)
      if (current && current.version === manifest.version) {
        if (current.sha256 === files.sha256) return view(current)
        throw new ModelLoadError('version_conflict', `${files.manifestPath}: version ${manifest.version} is already serving with sha256 ${current.sha256}; a changed file needs a new version`)
      }
      const key = `${name}@${manifest.version}#${nextLoad++}`
      let load
      try {
        load = await this.opts.pool.addModel(key, name, manifest, files.bytes)
      } catch (e) {
        if (e instanceof ModelLoadError) throw new ModelLoadError(e.code, `${files.file}: ${e.message}`)
        throw new ModelLoadError('load_failed', `${files.file}: ${(e as Error).message}`)
      }
      for (const f of load.providerErrors) this.#providerErrors.set(f.ep, f)
      const entry: ModelVersion = { name, version: manifest.version, sha256: files.sha256, task: 'detect', ep: load.ep, manifest, key, file: files.file, inflight: 0, retiring: false }
      // The swap: frames acquired from here on get the new version.
      this.#active.set(name, entry)
      if (current) this.#retire(current)
      this.opts.log.info({ model: name, version: entry.version, ep: entry.ep, replaced: current?.version ?? null }, 'model version serving')
      this.opts.hooks?.onModelLoaded?.(view(entry))
      return view(entry)
    } catch (e) {
      const error = e instanceof ModelLoadError ? e : new ModelLoadError('load_failed', `${name}: ${(e as Error).message}`)
      const running = this.#active.get(name)
      this.opts.log.error({ model: name, code: error.code, running: running?.version ?? null }, `model refused: ${error.message}`)
      this.opts.hooks?.onModelRejected?.({ name, error })
      throw error
    }
  }

  /** The version a new frame of `name` runs on, counted until release(). */
  acquire(name: string): ModelVersion | undefined {
    const v = this.#active.get(name)
    if (v) v.inflight++
    return v
  }

  serves(name: string): boolean {
    return this.#active.has(name)
  }

  /** Names serving or ever loaded here (a load may be in progress). */
  names(): string[] {
    return [...new Set([...this.#active.keys(), ...this.#chains.keys()])]
  }

  /**
   * Stops serving `name`, after any load of it in progress: frames already holding it finish,
   * then its sessions are released.
   */
  unload(name: string): Promise<void> {
    const prev = this.#chains.get(name) ?? Promise.resolve()
    const next = prev.catch(() => undefined).then(() => {
      const v = this.#active.get(name)
      if (!v) return
      this.#active.delete(name)
      this.#retire(v)
      this.opts.log.info({ model: name, version: v.version }, 'model no longer served')
    })
    this.#chains.set(name, next)
    return next
  }

  release(v: ModelVersion): void {
    v.inflight--
    if (v.retiring && v.inflight === 0) this.#unload(v)
  }

  #retire(v: ModelVersion): void {
    v.retiring = true
    this.#draining.add(v)
    if (v.inflight === 0) this.#unload(v)
  }

  #unload(v: ModelVersion): void {
    void this.opts.pool
      .removeModel(v.key)
      .then(
        () => this.opts.log.info({ model: v.name, version: v.version }, 'old model version drained and released'),
        (e: unknown) => this.opts.log.error({ model: v.name, version: v.version, err: e }, 'releasing an old model version failed'),
      )
      .finally(() => this.#draining.delete(v))
  }

  /** Serving versions and replaced ones still finishing their frames. */
  versions(): { name: string; version: string; state: 'serving' | 'draining'; inflight: number }[] {
    const row = (v: ModelVersion, state: 'serving' | 'draining') => ({ name: v.name, version: v.version, state, inflight: v.inflight })
    return [...[...this.#active.values()].map((v) => row(v, 'serving')), ...[...this.#draining].map((v) => row(v, 'draining'))]
  }

  list(): LoadedModel[] {
    return [...this.#active.values()].map(view)
  }

  /** Why providers asked for were not used, one entry per provider (the latest reason). */
  providerErrors(): ProviderFailure[] {
    return [...this.#providerErrors.values()]
  }

  /** Waits for loads in progress (closing while a version warms up). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()])
  }
}

function view(v: ModelVersion): LoadedModel {
  return { name: v.name, version: v.version, sha256: v.sha256, task: v.task, ep: v.ep, manifest: v.manifest }
}
