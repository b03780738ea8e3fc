/**
 * Dark (default) or light theme (client/styles/theme.css). The operator's choice is remembered in
 * this browser (localStorage `linesight.theme`); without one the OS's `prefers-color-scheme` decides
 * (the CSS follows it by itself, so nothing flashes before this runs).
 */
import { ref } from 'vue'
import { localStore } from '../local-storage.ts'

export type Theme = 'light' | 'dark'
export const THEME_KEY = 'linesight.theme'

function stored(): Theme | null {
  try {
    const v = localStore()?.getItem(THEME_KEY)
    return v === 'light' || v === 'dark' ? v : null
  } catch {
    return null
  }
}

function preferred(): Theme {
  return globalThis.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark'
}

/** The theme in effect: the remembered choice, else the OS preference. */
export const theme = ref<Theme>(stored() ?? preferred())

/**
 * Sets the remembered choice on the document and, while there is none, follows the OS preference
 * as it changes (call once at start).
 */
export function applyTheme(): void {
  const chosen = stored()
  if (chosen) document.documentElement.dataset.theme = chosen
  else delete document.documentElement.dataset.theme
  theme.value = chosen ?? preferred()
  globalThis.matchMedia?.('(prefers-color-scheme: light)').addEventListener('change', () => {
    if (!document.documentElement.dataset.theme) theme.value = preferred()
  })
}

export function setTheme(t: Theme): void {
  try {
    localStore()?.setItem(THEME_KEY, t)
  } catch {
    // storage full or blocked: the theme still changes for this page
  }
  document.documentElement.dataset.theme = t
  theme.value = t
}

export function toggleTheme(): void {
  setTheme(theme.value === 'light' ? 'dark' : 'light')
}
