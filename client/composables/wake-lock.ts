import { onBeforeUnmount, onMounted, ref } from 'vue'

/**
 * Keeps the screen on while a station or kiosk view is open: a tablet that dims after a minute
 * stops showing verdicts (and may stop its camera). The lock is dropped by the browser whenever the
 * page is hidden, so it is taken again when the page comes back.
 */
export function useWakeLock() {
  const error = ref<string | null>(null)
  let sentinel: WakeLockSentinel | null = null

  async function request(): Promise<void> {
    if (document.visibilityState !== 'visible' || sentinel) return
    if (!('wakeLock' in navigator)) {
      error.value = 'not supported by this browser'
      return
    }
    try {
      sentinel = await navigator.wakeLock.request('screen')
      sentinel.addEventListener('release', () => (sentinel = null))
      error.value = null
    } catch (e) {
      error.value = (e as Error).message
    }
  }
  const onVisibility = () => void request()

  onMounted(() => {
    document.addEventListener('visibilitychange', onVisibility)
    void request()
  })
  onBeforeUnmount(() => {
    document.removeEventListener('visibilitychange', onVisibility)
    sentinel?.release().catch((e: unknown) => (error.value = (e as Error).message))
  })
  return { error }
}
