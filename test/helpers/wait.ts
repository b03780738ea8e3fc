/**
 * Waiting for a condition instead of sleeping: polls `check` until it returns something truthy,
 * failing with `what` when the deadline passes. Errors thrown by `check` end the wait at once,
 * unless `retryErrors` says they are expected while something comes back (a broker reconnecting).
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string; retryErrors?: boolean } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  const interval = opts.intervalMs ?? 25
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v as NonNullable<T>
    } catch (err) {
      const notListeningYet = err instanceof TypeError && /fetch failed/.test(err.message)
      if (!notListeningYet && !opts.retryErrors) throw err
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 15_000} ms waiting for ${opts.what ?? 'a condition'}${last ? ` (last: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}
