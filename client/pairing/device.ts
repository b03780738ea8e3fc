/**
 * Is this browser a paired device? The token itself is an HttpOnly cookie the page never sees;
 * `GET /api/v1/me` answers 401 when there is none (or it was revoked), and a revoked device's
 * socket closes with code 4001 and the reason to show. Station and kiosk screens show the
 * pairing notice instead of starting while this says so.
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

export type DeviceState = 'checking' | 'paired' | 'unpaired' | 'revoked'

export const useDeviceStore = defineStore('device', () => {
  const state = ref<DeviceState>('checking')
  /** What the server said when it cut this device off. */
  const reason = ref<string | null>(null)

  /** Asks the server who this browser is; a network failure leaves it as it was (the link retries). */
  async function check(): Promise<void> {
    try {
      const res = await fetch('/api/v1/me', { headers: { accept: 'application/json' } })
      if (res.status === 401) {
        if (state.value !== 'revoked') state.value = 'unpaired'
      } else if (res.ok) {
        state.value = 'paired'
        reason.value = null
      }
    } catch {
      if (state.value === 'checking') state.value = 'paired'
    }
  }

  function revoked(message: string): void {
    state.value = 'revoked'
    reason.value = message
  }

  return { state, reason, check, revoked }
})
