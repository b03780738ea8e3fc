import { onBeforeUnmount, ref, type Ref } from 'vue'

/** A clock for countdowns and "3 s ago" labels; stops with the component. */
export function useNow(intervalMs = 250): Ref<number> {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), intervalMs)
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
