/**
 * Which language the app speaks: the operator's explicit choice (kept in localStorage), else the
 * first of the browser's languages that we have, else English.
 */
import { localStore } from '../local-storage.ts'

export const LOCALES = ['en', 'zh-CN'] as const
export type Locale = (typeof LOCALES)[number]
export const FALLBACK_LOCALE: Locale = 'en'

const STORAGE_KEY = 'linesight.locale'

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v)
}

/**
 * Maps a BCP 47 tag to a locale we ship. Every Chinese tag maps to Simplified Chinese: it is the
 * only Chinese we ship, and it serves a zh-TW reader better than English would.
 */
export function matchLocale(tag: string): Locale | null {
  const lower = tag.toLowerCase()
  if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN'
  if (lower === 'en' || lower.startsWith('en-')) return 'en'
  return null
}

export function pickLocale(stored: string | null, preferred: readonly string[]): Locale {
  if (isLocale(stored)) return stored
  for (const tag of preferred) {
    const m = matchLocale(tag)
    if (m) return m
  }
  return FALLBACK_LOCALE
}

export function storedLocale(): string | null {
  return localStore()?.getItem(STORAGE_KEY) ?? null
}

/** False when it could not be kept (storage disabled or full): the choice then lasts this visit only. */
export function storeLocale(locale: Locale): boolean {
  const s = localStore()
  if (!s) return false
  try {
    s.setItem(STORAGE_KEY, locale)
    return true
  } catch {
    return false
  }
}

export function browserLanguages(): readonly string[] {
  const nav = globalThis.navigator
  if (!nav) return []
  return nav.languages?.length ? nav.languages : nav.language ? [nav.language] : []
}
