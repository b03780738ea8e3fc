/**
 * Full-screen mode for mounted tablets and kiosks (Fullscreen API). While the page is full screen,
 * or a full-screen screen is wanted, the app's chrome (the top bar) is hidden.
 *
 * A browser enters full screen only from a user gesture, so a wanted full screen (`?fullscreen=1`
 * in the URL, or remembered in localStorage `linesight.fullscreen` after the operator entered it) hides
 * the chrome at once and enters full screen on the first tap or key. Leaving full screen (the button,
 * or the browser's Escape) forgets the preference; `?fullscreen=0` does too.
 */
import { computed, ref } from 'vue'
import { localStore } from '../local-storage.ts'

export const FULLSCREEN_KEY = 'linesight.fullscreen'

const active = ref(false)
const wanted = ref(false)
let started = false

function remember(on: boolean): void {
  try {
    if (on) localStore()?.setItem(FULLSCREEN_KEY, '1')
    else localStore()?.removeItem(FULLSCREEN_KEY)
  } catch {
    // blocked storage: the preference lasts for this page only
  }
}

export const fullscreenSupported = (): boolean => typeof document !== 'undefined' && document.fullscreenEnabled === true

export async function enterFullscreen(): Promise<void> {
  wanted.value = true
  remember(true)
  if (document.fullscreenElement || !fullscreenSupported()) return
  try {
    await document.documentElement.requestFullscreen({ navigationUI: 'hide' })
  } catch {
    // no user gesture yet (a remembered preference): the next tap tries again
  }
}

export async function exitFullscreen(): Promise<void> {
  wanted.value = false
  remember(false)
  if (document.fullscreenElement) await document.exitFullscreen().catch(() => undefined)
}

function onGesture(e: Event): void {
  // the full-screen button decides for itself
  if (e.target instanceof Element && e.target.closest('[data-fullscreen-toggle]')) return
  if (wanted.value && !document.fullscreenElement) void enterFullscreen()
}

/** Starts following the document (once, from main.ts); `query` is the page's search string. */
export function startFullscreen(query: string): void {
  if (started) return
  started = true
  const q = new URLSearchParams(query).get('fullscreen')
  if (q === '1' || q === 'true') remember(true)
  else if (q === '0' || q === 'false') remember(false)
  try {
    wanted.value = localStore()?.getItem(FULLSCREEN_KEY) === '1'
  } catch {
    wanted.value = false
  }
  active.value = document.fullscreenElement !== null
  document.addEventListener('fullscreenchange', () => {
    const was = active.value
    active.value = document.fullscreenElement !== null
    // left full screen (Escape, the button): forget the preference
    if (was && !active.value) {
      wanted.value = false
      remember(false)
    }
  })
  window.addEventListener('pointerdown', onGesture, { capture: true })
  window.addEventListener('keydown', onGesture, { capture: true })
}

export function useFullscreen() {
  return {
    active: computed(() => active.value),
    /** Chrome hidden: full screen, or full screen wanted and waiting for a gesture. */
    chromeless: computed(() => active.value || wanted.value),
    toggle: () => (active.value ? exitFullscreen() : enterFullscreen()),
  }
}
