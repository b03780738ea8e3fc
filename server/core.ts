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
import type { LoadTracker } from './metrics/load.ts'
import type { PartTracker } from './parts/tracker.ts'
import type { Processor } from './inference/processor.ts'
import type { Recorder } from './results/recorder.ts'
import type { ReviewService } from './review/service.ts'
import type { ModelCatalog } from './models/catalog.ts'
import type { LineSettingsService } from './lines/line-settings.ts'
import type { Store } from './storage/types.ts'
import type { Uploads } from './uploads/index.ts'
import type { Logger } from './log.ts'
import type { Authenticator } from './auth/authenticate.ts'
import type { UwsStatus } from './gateway/uws.ts'
import type { Outputs } from './outputs/index.ts'

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
  /** The review queue and reviews. */
  review: ReviewService
  /** Present in processes that run inference (role all or worker). */
  engine?: PoolInferenceEngine
  /** Candidate models in shadow, on workers of their own (none with CANDIDATE_WORKERS=0 or in a gateway). */
  candidateEngine?: PoolInferenceEngine
  processor?: Processor
  /** Upload jobs: tus uploads (gateway roles) and their frames' bookkeeping (every role). */
  uploads?: Uploads
  /** MQTT, OPC UA and webhooks (gateway roles). */
  outputs?: Outputs
  /** Part tracking (gateway roles): the trigger and part routes, fed by the result bus. */
  parts?: PartTracker
  /** False once shutdown began: /ready answers 503 so load balancers stop sending. */
  accepting: boolean
  /** The uWebSockets.js binary in use; undefined in a worker, which serves no sockets. */
  uws?: UwsStatus
  tls?: { fingerprint: string; certFile: string; names: string[] }
  /** Gateway roles: who may call what, and failed sign-ins (pairing uses it too). */
  auth?: Authenticator
  /** Gateway roles: closes the open sockets of a revoked token with a reason; how many it closed. */
  closeSockets?(tokenId: string, reason: string): number
}
