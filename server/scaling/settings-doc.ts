/**
 * The `scaling` settings document: validated with the shared schema, saved through the settings
 * store (which writes the audit log in the same transaction), and followed live: a save in any
 * process reaches every process's supervisor through the store's change feed.
 */
import { ScalingSettingsSchema, type ScalingSettings } from '../../shared/domain/scaling.ts'
import { CodedError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { SettingsDoc, SettingsStore } from '../storage/settings-store.ts'

export const SCALING_KEY = 'scaling'

export interface ScalingDocMeta {
  revision: number | null
  updatedAt: number | null
  updatedBy: string | null
}

const NEVER_SAVED: ScalingDocMeta = { revision: null, updatedAt: null, updatedBy: null }

/** Validates a candidate; the 422 lists every problem with its path. */
export function parseScalingSettings(value: unknown): ScalingSettings {
  const parsed = ScalingSettingsSchema.safeParse(value)
  if (!parsed.success) throw new CodedError('invalid_settings', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '))
  return parsed.data
}

export class ScalingSettingsDoc {
  #settings: ScalingSettings
  #meta: ScalingDocMeta = NEVER_SAVED
  readonly #listeners = new Set<(s: ScalingSettings) => void>()

  constructor(
    private readonly store: Pick<SettingsStore, 'get' | 'put' | 'onChange'>,
    readonly defaults: ScalingSettings,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.#settings = defaults
  }

  get settings(): ScalingSettings {
    return this.#settings
  }

  get meta(): ScalingDocMeta {
    return this.#meta
  }

  /** Reads the saved document (if any) and follows later saves. */
  async init(): Promise<void> {
    const doc = await this.store.get(SCALING_KEY)
    if (doc) this.#accept(doc)
    await this.store.onChange((d) => {
      if (d.key === SCALING_KEY) this.#accept(d)
    })
  }

  async save(value: unknown, actor: string): Promise<ScalingSettings> {
    const settings = parseScalingSettings(value)
    const doc = await this.store.put(SCALING_KEY, settings, actor)
    this.#accept(doc)
    return settings
  }

  onChange(listener: (s: ScalingSettings) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #accept(doc: SettingsDoc): void {
    if (this.#meta.revision !== null && doc.revision <= this.#meta.revision) return
    const parsed = ScalingSettingsSchema.safeParse(doc.value)
    if (!parsed.success) {
      // a document written by a newer or older version: keep what runs, say why
      this.log.warn({ revision: doc.revision, issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'scaling: the saved settings are not valid here; keeping the current ones')
      return
    }
    this.#settings = parsed.data
    this.#meta = { revision: doc.revision, updatedAt: doc.updatedAt, updatedBy: doc.updatedBy }
    for (const l of this.#listeners) l(parsed.data)
  }
}
