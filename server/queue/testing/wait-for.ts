/**
 * Polls a condition until it holds or a deadline passes: tests wait for a state, never for a time.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: { what: string; timeoutMs?: number; everyMs?: number },
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as NonNullable<T>
      last = value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs ?? 20))
  }
}

/** A promise with its resolve function, for handlers a test releases when it chooses. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}
