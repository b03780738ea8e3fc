/**
 * Per-line settings (model, routing policy, prefilter thresholds, sampling fractions). Lines
 * exist implicitly: a line nobody configured gets the defaults, built from the configuration and
 * the prefilter model's calibrated thresholds. Changes are validated, persisted through the
 * optional `persistence` adapter (the settings store, audited) and pushed to listeners live.
 */
import { LineSettingsSchema, type LineSettings, type PrefilterThresholds } from '../../shared/domain/line-settings.ts'
import { CodedError } from '../errors.ts'

export interface SettingsPersistence {
  load(): Promise<LineSettings[]>
  save(settings: LineSettings, actor: string, before: LineSettings | null): Promise<void>
}

/** Used when the prefilter manifest gives none (see models/prefilter/manifest.json). */
export const FALLBACK_PREFILTER: PrefilterThresholds = {
  change: 0.02,
  sharpness: 0.001,
  exposureLow: 0.12,
  exposureHigh: 0.88,
  clipped: 0.25,
  partPresent: 0.5,
}

/**
 * What an unconfigured line runs with: the default detector, the prefilter thresholds its model's
 * manifest ships (else FALLBACK_PREFILTER), a little audit and shadow sampling.
 */
export function lineDefaults(defaultModel: string, prefilterThresholds: Record<string, number> | undefined): Omit<LineSettings, 'line'> {
  return {
    model: defaultModel,
    policy: 'auto',
    prefilter: { ...FALLBACK_PREFILTER, ...pickPrefilter(prefilterThresholds ?? {}), enabled: true },
    auditFraction: 0.02,
    shadowFraction: 0.05,
    scoreThresholds: {},
    captureFps: 5,
  }
}

function pickPrefilter(t: Record<string, number>): Partial<PrefilterThresholds> {
  const out: Partial<PrefilterThresholds> = {}
  for (const k of Object.keys(FALLBACK_PREFILTER) as (keyof PrefilterThresholds)[]) if (typeof t[k] === 'number') out[k] = t[k]
  return out
}

export class LineSettingsService {
  readonly #lines = new Map<string, LineSettings>()
  readonly #listeners = new Set<(s: LineSettings) => void>()
  /** Lines this process has seen traffic for, so they show up in lists before anyone configures them. */
  readonly #seen = new Set<string>()
  /** Defaults handed out for unconfigured lines, one frozen copy per line instead of a clone per call. */
  readonly #defaultsByLine = new Map<string, LineSettings>()

  constructor(
    private readonly defaults: Omit<LineSettings, 'line'>,
    private readonly persistence?: SettingsPersistence,
  ) {}

  async init(): Promise<void> {
    for (const s of (await this.persistence?.load()) ?? []) this.#lines.set(s.line, s)
  }

  get(line: string): LineSettings {
    const configured = this.#lines.get(line)
    if (configured) return configured
    let d = this.#defaultsByLine.get(line)
    if (!d) {
      d = deepFreeze({ line, ...structuredClone(this.defaults) })
      if (this.#defaultsByLine.size < 10_000) this.#defaultsByLine.set(line, d)
    }
    return d
  }

  touch(line: string): void {
    if (this.#seen.size < 10_000) this.#seen.add(line)
  }

  /** Configured lines, lines seen since start, and any others asked for. */
  list(extra: Iterable<string> = []): LineSettings[] {
    const names = new Set([...this.#lines.keys(), ...this.#seen, ...extra])
    return [...names].sort().map((l) => this.get(l))
  }

  async update(line: string, patch: unknown, actor: string): Promise<LineSettings> {
    const before = this.#lines.get(line) ?? null
    const merged = { ...this.get(line), ...(patch as object), line }
    const parsed = LineSettingsSchema.safeParse(merged)
    if (!parsed.success) {
      throw new CodedError('invalid_settings', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    }
    await this.persistence?.save(parsed.data, actor, before)
    this.#lines.set(line, parsed.data)
    for (const l of this.#listeners) l(parsed.data)
    return parsed.data
  }

  /** Another process changed a line (settings store notification). */
  applyExternal(settings: LineSettings): void {
    this.#lines.set(settings.line, settings)
    for (const l of this.#listeners) l(settings)
  }

  onChange(listener: (s: LineSettings) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
