/**
 * The line's settings and model references from the last welcome, kept per station so that a
 * station opened while the server is down (a reload during an outage) still knows its thresholds
 * and policy and can load its models from the cache and inspect locally.
 */
import { z } from 'zod'
import { WelcomeMessageSchema, type WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import { localStore } from '../local-storage.ts'

const SavedSchema = WelcomeMessageSchema.pick({ settings: true, models: true }).extend({ savedAt: z.number() })
export type SavedWelcome = z.infer<typeof SavedSchema>

const key = (line: string, station: string) => `linesight.welcome:${line}/${station}`

/** Null when nothing (valid) was saved; a record from an older version is ignored, not trusted. */
export function loadWelcome(line: string, station: string, store: Storage | null = localStore()): SavedWelcome | null {
  const raw = store?.getItem(key(line, station))
  if (!raw) return null
  try {
    const parsed = SavedSchema.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/** False when it could not be kept (no storage, quota): an outage start then has no models. */
export function saveWelcome(line: string, station: string, w: Pick<WelcomeMessage, 'settings' | 'models'>, now = Date.now(), store: Storage | null = localStore()): boolean {
  if (!store) return false
  try {
    store.setItem(key(line, station), JSON.stringify({ settings: w.settings, models: w.models, savedAt: now }))
    return true
  } catch {
    return false
  }
}
