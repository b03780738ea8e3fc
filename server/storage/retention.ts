/**
 * Deletes results older than the retention period, now and then every `intervalMs`. The timer
 * is unref'd: retention never keeps a process alive. Runs never overlap; a run that fails is
 * reported and the next one tries again.
 */
import { consoleLogger, type Logger } from './errors.ts'
import type { ResultStore } from './types.ts'

const DAY_MS = 86_400_000

export interface RetentionOptions {
  /** @default one hour */
  intervalMs?: number
  log?: Logger
  /** Called after each run with how many results it removed. */
  onRun?: (deleted: number) => void
}

/** Starts the schedule; `days` = 0 keeps everything. Returns a function that stops it. */
export function startRetention(store: Pick<ResultStore, 'deleteBefore'>, days: number, opts: RetentionOptions = {}): () => void {
  if (!(days > 0)) return () => undefined
  let running = false
  const run = () => {
    if (running) return
    running = true
    void store
      .deleteBefore(Date.now() - days * DAY_MS)
      .then((deleted) => opts.onRun?.(deleted))
      .catch((err: unknown) => (opts.log ?? consoleLogger).error({ err }, 'storage: retention run failed'))
      .finally(() => (running = false))
  }
  run()
  const timer = setInterval(run, opts.intervalMs ?? 3_600_000)
  timer.unref()
  return () => clearInterval(timer)
}
