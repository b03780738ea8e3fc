/**
 * Every result this process hears from the bus goes to the hub (stations, kiosks, waiting HTTP
 * requests) and to part tracking; the line is marked seen, and a server-inferred result's pipeline time feeds the load
 * report that stations route by.
 */
import type { LoadTracker } from '../metrics/load.ts'
import type { LineSettingsService } from '../lines/line-settings.ts'
import type { PartTracker } from '../parts/tracker.ts'
import type { ResultBus } from './bus.ts'
import type { ResultHub } from './hub.ts'

const SERVER_STAGES = ['queue', 'decode', 'infer', 'postprocess']

/** Returns the unsubscribe. */
export function fanOutResults(
  bus: ResultBus,
  deps: { hub: ResultHub; settings: Pick<LineSettingsService, 'touch'>; load: Pick<LoadTracker, 'recordLatency'>; parts?: Pick<PartTracker, 'onResult'> | undefined },
): () => void {
  return bus.subscribe((r) => {
    deps.settings.touch(r.line)
    deps.hub.dispatch(r)
    deps.parts?.onResult(r)
    const t = r.source === 'browser' ? undefined : r.timings
    if (t) deps.load.recordLatency(SERVER_STAGES.reduce((s, k) => s + (t[k] ?? 0), 0))
  })
}
