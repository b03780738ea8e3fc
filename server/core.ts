/**
 * The services one linesight process is made of, built once in server/app.ts and handed to the
 * HTTP routes and WebSocket sessions. Nothing here knows about uWebSockets.js.
 */
import type { Config } from './config/index.ts'
import type { FrameIngest } from './ingest/ingest.ts'
import type { PoolInferenceEngine } from './inference/engine.ts'
import type { Metrics } from './metrics/metrics.ts'
import type { FrameQueue } from './queue/types.ts'
import type { ResultHub } from './results/hub.ts'
import type { LoadTracker } from './results/load.ts'
import type { PartTracker } from './parts/tracker.ts'
import type { Processor } from './results/processor.ts'
import type { Recorder } from './results/recorder.ts'
import type { ModelCatalog } from './models/catalog.ts'
import type { LineSettingsService } from './settings/lines.ts'
import type { Store } from './storage/types.ts'
import type { Uploads } from './uploads/index.ts'
import type { Logger } from './log.ts'

export interface Core {
  config: Config
  log: Logger
  metrics: Metrics
  queue: FrameQueue
  store: Store
  settings: LineSettingsService
  hub: ResultHub
  ingest: FrameIngest
  recorder: Recorder
  load: LoadTracker
  models: ModelCatalog
  /** Present in processes that run inference (role all or worker). */
  engine?: PoolInferenceEngine
  processor?: Processor
  /** Upload jobs: tus uploads (gateway roles) and their frames' bookkeeping (every role). */
  uploads?: Uploads
  /** Part tracking (gateway roles): the trigger and part routes, fed by the result bus. */
  parts?: PartTracker
  /** False once shutdown began: /ready answers 503 so load balancers stop sending. */
  accepting: boolean
  uws: { native: boolean; implementation: string }
  tls?: { fingerprint: string; certFile: string; names: string[] }
}
