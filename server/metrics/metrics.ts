/**
 * Every linesight metric, declared in one place. Names are prefixed `linesight_`, in base units,
 * counters end in `_total`. `npx tsx server/metrics/print-reference.ts > docs/metrics.md` generates
 * the reference table from this registry (reference.ts), and a test fails when docs/metrics.md
 * differs, so the docs cannot drift from the code. GPU metrics live in gpu.ts: they are registered
 * only where nvidia-smi exists.
 */
import client from 'prom-client'

/** 1 ms to 10 s: a line's latencies, from a fast model to a stuck queue. */
export const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]

/** The label values known in advance; each starts as a series at 0 (see the end of createMetrics). */
export const DROP_REASONS = ['busy', 'over_credit', 'malformed', 'too_large', 'unsupported_type', 'expired', 'dead_letter', 'undecodable', 'unavailable'] as const
export const DEAD_LETTER_REASONS = ['expired', 'delivery-limit', 'rejected'] as const
export const RESTART_REASONS = ['stuck', 'crashed'] as const
export const CONNECTION_ROLES = ['station', 'kiosk'] as const
export const OUTPUTS = ['mqtt', 'opcua', 'webhook'] as const

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new client.Registry()
  if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: registry })
  const r = [registry]
  /** Gauges counted when scraped, not per event; their sources register later (onCollect). */
  const collectors: { reviewBacklog?: () => Promise<void> } = {}

  const m = {
    registry,
    framesReceived: new client.Counter({ name: 'linesight_frames_received_total', help: 'Frames received, by line and source (ws, http, upload).', labelNames: ['line', 'source'] as const, registers: r }),
    framesDropped: new client.Counter({ name: 'linesight_frames_dropped_total', help: 'Frames refused or lost before a result, by reason (busy, over_credit, malformed, too_large, unsupported_type, expired, dead_letter, undecodable, unavailable).', labelNames: ['reason'] as const, registers: r }),
    framesSkipped: new client.Counter({ name: 'linesight_frames_skipped_total', help: 'Frames the stations\' prefilter skipped, by line and reason (unchanged, blur, exposure, empty).', labelNames: ['line', 'reason'] as const, registers: r }),
    results: new client.Counter({ name: 'linesight_results_total', help: 'Inspection results, by line, verdict and where inferred (server, browser).', labelNames: ['line', 'verdict', 'where'] as const, registers: r }),
    resultsRecorded: new client.Counter({ name: 'linesight_results_recorded_total', help: 'Results written to the store (duplicates of an already recorded frame are not counted).', registers: r }),
    detections: new client.Counter({ name: 'linesight_detections_total', help: 'Detections in results, by line and class.', labelNames: ['line', 'class'] as const, registers: r }),
    inferenceSeconds: new client.Histogram({ name: 'linesight_inference_seconds', help: 'Model inference time per frame, by model, execution provider and where (server, browser).', labelNames: ['model', 'ep', 'where'] as const, buckets: LATENCY_BUCKETS, registers: r }),
    stageSeconds: new client.Histogram({ name: 'linesight_stage_seconds', help: 'Time a frame spent in each server stage (queue, decode, infer, postprocess, record, push).', labelNames: ['stage'] as const, buckets: LATENCY_BUCKETS, registers: r }),
    e2eSeconds: new client.Histogram({ name: 'linesight_e2e_latency_seconds', help: 'Server end-to-end latency: frame received by the gateway to result pushed, by source.', labelNames: ['source'] as const, buckets: LATENCY_BUCKETS, registers: r }),
    queueDepth: new client.Gauge({ name: 'linesight_queue_depth', help: 'Frames waiting, by queue (live, batch, unacked, dead).', labelNames: ['queue'] as const, registers: r }),
    deadLetters: new client.Counter({ name: 'linesight_dead_letters_total', help: 'Frames dead-lettered, by reason (expired, delivery-limit, rejected, ...).', labelNames: ['reason'] as const, registers: r }),
    wsConnections: new client.Gauge({ name: 'linesight_ws_connections', help: 'Open WebSocket connections, by role (station, kiosk).', labelNames: ['role'] as const, registers: r }),
    kioskSkipped: new client.Counter({ name: 'linesight_kiosk_messages_skipped_total', help: 'Results not sent to a slow kiosk because its socket buffer was over the limit.', registers: r }),
    batchSize: new client.Histogram({ name: 'linesight_inference_batch_size', help: 'Frames per inference call (dynamic batching), by model.', labelNames: ['model'] as const, buckets: [1, 2, 4, 8, 16, 32, 64], registers: r }),
    workerRestarts: new client.Counter({ name: 'linesight_worker_restarts_total', help: 'Inference workers replaced, by reason (stuck, crashed).', labelNames: ['reason'] as const, registers: r }),
    workers: new client.Gauge({ name: 'linesight_inference_workers', help: 'Inference workers running in this process.', registers: r }),
    modelInfo: new client.Gauge({ name: 'linesight_model_info', help: 'Loaded models (value 1), by name, version, task and execution provider.', labelNames: ['name', 'version', 'task', 'ep'] as const, registers: r }),
    inferencePaused: new client.Gauge({ name: 'linesight_inference_paused', help: '1 while an administrator paused taking frames off the queue.', registers: r }),
    stationBackend: new client.Gauge({ name: 'linesight_station_backend_info', help: 'Backend each connected station chose for browser inference (value 1), by line, station and ep.', labelNames: ['line', 'station', 'ep'] as const, registers: r }),
    prefilterAudit: new client.Counter({ name: 'linesight_prefilter_audit_total', help: 'Audit frames (skipped by the prefilter but sent anyway), by line and outcome (defect = the prefilter skipped a defective part, clean).', labelNames: ['line', 'outcome'] as const, registers: r }),
    evidence: new client.Counter({ name: 'linesight_evidence_total', help: 'Evidence on demand: full-resolution originals the server asked stations for, by line and outcome (requested, received, missed: the station no longer had it or never answered, refused: sent unasked, twice, oversize or not the camera frame).', labelNames: ['line', 'outcome'] as const, registers: r }),
    shadowChecks: new client.Counter({ name: 'linesight_shadow_checks_total', help: 'Frames inferred in the browser and on the server to compare, by line and browser ep.', labelNames: ['line', 'ep'] as const, registers: r }),
    shadowDisagreements: new client.Counter({ name: 'linesight_shadow_disagreements_total', help: 'Detections not matched at IoU 0.5 between browser and server in shadow checks, by line and browser ep.', labelNames: ['line', 'ep'] as const, registers: r }),
    reviewQueued: new client.Counter({ name: 'linesight_review_queued_total', help: 'Reasons frames were put in the review queue, by line and reason (near_threshold, shadow, audit, candidate, flag); a frame queued for two reasons counts twice.', labelNames: ['line', 'reason'] as const, registers: r }),
    reviews: new client.Counter({ name: 'linesight_reviews_total', help: 'Reviews recorded, by line and whether the reviewer changed the verdict (changed, confirmed).', labelNames: ['line', 'outcome'] as const, registers: r }),
    reviewBacklog: new client.Gauge({ name: 'linesight_review_backlog', help: 'Frames waiting for review, by line, counted in the database when Prometheus scrapes (every process\'s changes).', labelNames: ['line'] as const, registers: r, collect: () => collectors.reviewBacklog?.() }),
    candidateFrames: new client.Counter({ name: 'linesight_candidate_frames_total', help: 'Frames offered to a line\'s candidate model in shadow, by line and outcome (inferred, skipped_busy: no spare capacity, failed).', labelNames: ['line', 'outcome'] as const, registers: r }),
    candidateWorkerRestarts: new client.Counter({ name: 'linesight_candidate_worker_restarts_total', help: 'Candidate-model workers (CANDIDATE_WORKERS) replaced, by reason (stuck, crashed); verdicts never wait for them, so these are not counted in linesight_worker_restarts_total.', labelNames: ['reason'] as const, registers: r }),
    candidateAgreement: new client.Counter({ name: 'linesight_candidate_agreement_total', help: 'Candidate frames by line and result: agree (same verdict, every detection matched at IoU 0.5 with the current model) or disagree (queued for review).', labelNames: ['line', 'result'] as const, registers: r }),
    httpRequests: new client.Counter({ name: 'linesight_http_requests_total', help: 'HTTP requests answered, by route and status class (2xx, 4xx, 5xx).', labelNames: ['route', 'status'] as const, registers: r }),
    outputMessages: new client.Counter({ name: 'linesight_output_messages_total', help: 'Messages a plant output handed on (MQTT: acknowledged by the broker; webhook: answered 2xx; opcua: values written), by output.', labelNames: ['output'] as const, registers: r }),
    outputDropped: new client.Counter({ name: 'linesight_output_dropped_total', help: 'Messages a plant output dropped because its queue was full (OUTPUTS_QUEUE_MAX) or it failed, by output.', labelNames: ['output'] as const, registers: r }),
    outputPending: new client.Gauge({ name: 'linesight_output_pending', help: 'Messages a plant output holds unsent (MQTT: unacknowledged; webhook: waiting to be written to the outbox), by output.', labelNames: ['output'] as const, registers: r }),
    webhookAttempts: new client.Counter({ name: 'linesight_webhook_attempts_total', help: 'Webhook delivery attempts, by outcome (delivered, retry, dead).', labelNames: ['outcome'] as const, registers: r }),
    outputLatency: new client.Histogram({ name: 'linesight_output_latency_seconds', help: 'Capture (or part close) to the broker acknowledging the MQTT message, by topic kind (part, result).', labelNames: ['kind'] as const, buckets: LATENCY_BUCKETS, registers: r }),
  }
  // Series with a known, closed set of label values start at 0: `increase()` needs a sample
  // before the first event, or an alert on "any dead letter" misses the first one after a start.
  for (const reason of DROP_REASONS) m.framesDropped.inc({ reason }, 0)
  for (const reason of DEAD_LETTER_REASONS) m.deadLetters.inc({ reason }, 0)
  for (const reason of RESTART_REASONS) m.workerRestarts.inc({ reason }, 0)
  for (const reason of RESTART_REASONS) m.candidateWorkerRestarts.inc({ reason }, 0)
  for (const role of CONNECTION_ROLES) m.wsConnections.set({ role }, 0)
  for (const output of OUTPUTS) m.outputDropped.inc({ output }, 0)
  return {
    ...m,
    /**
     * Where a scrape-time gauge gets its values: `count` runs at each scrape, before the gauge
     * is read (a counting query per scrape, not one per event on the frame path).
     */
    onCollect(gauge: 'reviewBacklog', count: () => Promise<void>): void {
      collectors[gauge] = count
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
