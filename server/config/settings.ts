/**
 * Every linesight setting, in one place. Each is an environment variable and a field of `Config`.
 * Run `npm run docs:settings` to regenerate the README table from this file.
 */
import { z } from 'zod'
import { bool, int, list, num, setting, str } from './define.ts'
import type { FullFrameDecoder } from '../inference/types.ts'

const MiB = 1024 * 1024

export const SETTINGS = {
  // --- process and network ---
  role: setting('LINESIGHT_ROLE', z.enum(['all', 'gateway', 'worker']), 'all', 'What this process runs: `all` (gateway + inference), `gateway` (accepts frames, serves clients) or `worker` (inference only). Set by `npm start`, `npm run gateway`, `npm run worker`.'),
  host: setting('HOST', str(), '0.0.0.0', 'Address the HTTP and HTTPS servers listen on.'),
  port: setting('PORT', int(0, 65535), 8080, 'Plain HTTP port (for localhost and behind a TLS-terminating proxy). 0 picks a free port.'),
  httpsPort: setting('HTTPS_PORT', int(0, 65535), 8443, 'HTTPS port, for tablets on the plant network (camera and WebGPU need a secure context). 0 picks a free port.'),
  httpsEnabled: setting('HTTPS_ENABLED', bool(), true, 'Serve HTTPS beside plain HTTP.'),
  tlsCertFile: setting('TLS_CERT_FILE', str(), undefined, 'PEM certificate for HTTPS. Unset: a self-signed one is generated on first start and kept in the data folder.'),
  tlsKeyFile: setting('TLS_KEY_FILE', str(), undefined, 'PEM private key for `TLS_CERT_FILE`.'),
  tlsHostnames: setting('TLS_HOSTNAMES', list(), [], 'Extra DNS names for the generated self-signed certificate (localhost, the host name and its LAN addresses are always included).'),
  dataDir: setting('LINESIGHT_DATA_DIR', str(), 'data', 'Folder for the SQLite database, generated certificate, uploads and stored images.'),
  dataMinFreeMb: setting('DATA_MIN_FREE_MB', int(0, 1024 * 1024), 64, '`/ready` answers 503 (`dataDir.ready: false`) while the data folder\'s filesystem has less free space than this, MB: a full disk fails image and SQLite writes. 0: never.'),
  logLevel: setting('LOG_LEVEL', z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info', 'Log level (pino).'),
  corsOrigins: setting('CORS_ORIGINS', list(), [], 'Origins allowed to call the HTTP API from a browser, comma-separated. Empty: CORS closed.'),
  serveClient: setting('SERVE_CLIENT', bool(), true, 'Serve the built PWA from `dist/client` (built by `npm start` when missing).'),
  uwsAllowJsFallback: setting('UWS_ALLOW_JS_FALLBACK', bool(), false, 'Let a gateway run uWebSockets.js\'s pure-JavaScript server (several times slower) when no native binary loads for this Node and C library. Off: the gateway refuses to start and says why each binary was skipped.'),

  // --- models ---
  modelsDir: setting('LINESIGHT_MODELS_DIR', str(), 'models', 'Folder of models, one sub-folder per model with its `manifest.json`.'),
  defaultModel: setting('LINESIGHT_DEFAULT_MODEL', str(), 'detector', 'Detector used by lines without an assigned model.'),
  prefilterModel: setting('LINESIGHT_PREFILTER_MODEL', str(), 'prefilter', 'Prefilter model the stations run in the browser.'),

  // --- ingest limits ---
  maxFrameBytes: setting('MAX_FRAME_BYTES', int(1024, 256 * MiB), 16 * MiB, 'Largest image accepted over WebSocket or `POST /api/v1/detect`, bytes.'),
  maxPixels: setting('MAX_PIXELS', int(1, 1e9), 40_000_000, 'Largest image accepted, width x height; bigger images are refused with 413 before decoding.'),
  fullFrameDecoder: setting(
    'FULL_FRAME_DECODER',
    z.enum(['libvips', 'turbojpeg'] as const satisfies readonly FullFrameDecoder[]),
    'libvips',
    'How a JPEG larger than the model input is decoded and shrunk: `libvips` (shrink-on-load, then a linear resize) or `turbojpeg` (decoded whole by TurboJPEG, then shrunk exactly as Ultralytics\' letterbox does, `cv2.resize` with `INTER_LINEAR`; only for an upright sRGB JPEG a whole k >= 2 times the letterbox\'s size and at most 2 MP, libvips for any other). `turbojpeg` costs about a quarter of the decode CPU for a 640x480 frame into a 320 px model and moves scores by up to 0.05 against `libvips` (bench/FINDINGS.md, "Full frames without libvips"). A model-size frame from a station is decoded by TurboJPEG either way.',
  ),
  stationCredit: setting('STATION_CREDIT', int(1, 1024), 8, 'Frames a station may have in flight; frames beyond it are answered `busy`.'),
  kioskMaxBufferedBytes: setting('KIOSK_MAX_BUFFERED_BYTES', int(1024), 1 * MiB, 'A kiosk whose socket has more than this buffered is skipped for new results until it drains.'),

  // --- queue ---
  amqpUrl: setting('AMQP_URL', str(), undefined, 'RabbitMQ URL (e.g. `amqp://user:pass@host:5672/vhost`). Unset: the embedded in-process queue.', { secret: true }),
  queueMaxLength: setting('QUEUE_MAX_LENGTH', int(1), 1000, 'Frames waiting in the live queue before publishing is refused (`busy`).'),
  batchQueueMaxLength: setting('BATCH_QUEUE_MAX_LENGTH', int(1), 100_000, 'Frames waiting in the batch (upload) queue before publishing is refused.'),
  deliveryLimit: setting('QUEUE_DELIVERY_LIMIT', int(1, 100), 3, 'Attempts before a frame is dead-lettered (a poison frame).'),
  liveFrameTtlMs: setting('LIVE_FRAME_TTL_MS', int(100), 5000, 'A live frame older than this in the queue is dead-lettered as expired.'),

  // --- inference ---
  workers: setting('INFERENCE_WORKERS', int(0, 256), undefined, 'Inference worker threads in this process. 0 in a gateway-only process.', { defaultDoc: 'planned from CPU cores' }),
  threadsPerWorker: setting('INFERENCE_THREADS', int(1, 256), undefined, 'onnxruntime intra-op threads per worker.', { defaultDoc: 'cores / workers' }),
  executionProviders: setting('INFERENCE_EPS', list(), ['cpu'], 'Execution providers in order of preference, e.g. `cuda,cpu`.'),
  epFallback: setting('INFERENCE_EP_FALLBACK', bool(), true, 'Fall back to the next provider when one asked for cannot load (the reason is logged and shown in `/ready`).'),
  batchMaxSize: setting('BATCH_MAX_SIZE', int(1, 256), 4, 'Dynamic batching: largest batch per inference call; frames that wait while every worker is busy go together. 1 turns batching off.'),
  batchMaxDelayMs: setting('BATCH_MAX_DELAY_MS', num(0, 1000), 0, 'Dynamic batching: longest a frame waits for a batch to fill, ms. 0: a free worker takes what is waiting and never waits for more.'),
  watchdogTimeoutMs: setting('WATCHDOG_TIMEOUT_MS', int(100), 10_000, 'A worker stuck in one inference longer than this is replaced and its frames retried.'),

  // --- storage ---
  databaseUrl: setting('DATABASE_URL', str(), undefined, 'PostgreSQL URL. Unset: embedded SQLite in the data folder.', { secret: true }),
  retentionDays: setting('RESULT_RETENTION_DAYS', num(0), 30, 'Results and stored images older than this are deleted (0 keeps everything).'),

  // --- security ---
  adminToken: setting('LINESIGHT_ADMIN_TOKEN', str(), undefined, 'First admin token. Unset: generated on first start and printed once.', { secret: true }),
  authRequired: setting('AUTH_REQUIRED', bool(), true, 'Require a token on every route and socket except `/health`, `/ready`, the app shell and `/api/v1/pair`: paired devices carry theirs, Prometheus a `metrics` token. Off (logged as a warning at start): open on a trusted network, admin routes still need the admin token.'),
  authFailuresPerMinute: setting('AUTH_FAILURES_PER_MINUTE', int(1, 10_000), 20, 'Failed authentications (bad tokens, bad pairing codes) one address may make per minute; beyond it that address gets 429 until a minute has passed. Every failure is audited.'),

  // --- queue transport (server/queue) ---
  queueDeadLetterMax: setting('QUEUE_DEAD_LETTER_MAX', int(1), 1000, 'Dead letters kept for inspection and requeue, with their bytes (the embedded queue in memory); beyond it the oldest are dropped (RabbitMQ: `x-max-length` of the dead-letter queue).'),
  queueInlineMaxBytes: setting('QUEUE_INLINE_MAX_BYTES', int(0, 128 * MiB), 1 * MiB, 'RabbitMQ: frames up to this size travel inside the message; bigger ones are written once to the blob store and the message carries a reference.'),
  queueBlobDir: setting('QUEUE_BLOB_DIR', str(), undefined, 'RabbitMQ: folder of the blob store for frames over `QUEUE_INLINE_MAX_BYTES`. When gateways and workers run on different hosts it must be a volume they all share.', { defaultDoc: '`<LINESIGHT_DATA_DIR>/queue-blobs`' }),
  queuePublishTimeoutMs: setting('QUEUE_PUBLISH_TIMEOUT_MS', int(100), 10_000, 'RabbitMQ: longest a publish waits for the broker (a reconnect included) before it fails with `unavailable`.'),

  // --- stored images (server/storage) ---
  storeImages: setting('STORE_IMAGES', z.enum(['fail', 'all', 'none']), 'fail', 'Which frames keep their image beside the result: `fail` (failing frames), `all`, or `none`. Kept as a 320 px JPEG thumbnail (and the original, see `STORE_ORIGINALS`); SQLite keeps them in `<LINESIGHT_DATA_DIR>/images.db` (beside `linesight.db`; files that earlier releases wrote under `images/` are still served and removed with their records), PostgreSQL in the database.'),
  storeOriginals: setting('STORE_ORIGINALS', bool(), true, 'Keep the original image of a stored frame, not only its thumbnail.'),

  // --- inference engine (server/inference) ---
  modelsWatch: setting('MODELS_WATCH', bool(), true, 'Watch the models folder and load a new model version when its files change (verified, warmed up, then swapped in; the old version drains).'),
  modelsWatchDebounceMs: setting('MODELS_WATCH_DEBOUNCE_MS', int(0, 60_000), 1000, 'Quiet time after the last change in a model folder before the new version is loaded, ms.'),
  watchdogMaxRestartsPerMinute: setting('WATCHDOG_MAX_RESTARTS_PER_MIN', int(1, 1000), 5, 'Worker replacements allowed per minute without delay; beyond that each waits twice as long as the last (up to 60 s).'),

  // --- monitoring (server/metrics) ---
  gpuMetricsIntervalMs: setting('GPU_METRICS_INTERVAL_MS', int(0, 3_600_000), 10_000, 'How often `nvidia-smi` is asked for GPU utilisation and memory, ms. Where `nvidia-smi` is not installed no GPU metric is exported at all. 0 turns the GPU metrics off.'),

  // --- uploads and inspection jobs (server/uploads) ---
  uploadMaxBytes: setting('UPLOAD_MAX_BYTES', int(1, Number.MAX_SAFE_INTEGER), 2 * 1024 * MiB, 'Largest upload (one image or an archive of images), bytes; announced as `Tus-Max-Size`. A bigger `Upload-Length` is refused with 413.'),
  uploadMaxPendingBytes: setting('UPLOAD_MAX_PENDING_BYTES', int(1, Number.MAX_SAFE_INTEGER), 8 * 1024 * MiB, 'Disk the uploads may reserve at once: the declared lengths of unfinished uploads plus the archives still being unpacked, bytes. A new upload beyond it is refused with 507 until space frees up.'),
  uploadMaxPendingPerClient: setting('UPLOAD_MAX_PENDING_PER_CLIENT', int(1, 10_000), 8, 'Unfinished uploads one client may hold (per token, or per remote address without one); one more is refused with 429.'),
  uploadExpiresMs: setting('UPLOAD_EXPIRES_MS', int(1000), 24 * 3600 * 1000, 'An unfinished upload with no data for this long expires (`Upload-Expires`): it answers 410 and its file is removed by the next sweep, ms.'),
  uploadSweepIntervalMs: setting('UPLOAD_SWEEP_INTERVAL_MS', int(100, 24 * 3600 * 1000), 60_000, 'How often expired uploads are looked for and removed, ms.'),
  uploadDir: setting('UPLOAD_DIR', str(), undefined, 'Folder of the bytes of uploads in progress. With several gateways it must be a volume they all mount (their state is in the database), so an upload started through one gateway can be finished through another.', { defaultDoc: '`<LINESIGHT_DATA_DIR>/uploads`' }),
  uploadLockMs: setting('UPLOAD_LOCK_MS', int(100, 3_600_000), 30_000, 'An upload being written or unpacked is leased to one gateway, renewed while it works; a gateway that dies holding one loses it after this long, and another gateway (or a client resuming through one) takes the upload over, ms.'),
  uploadArchiveMaxEntries: setting('UPLOAD_ARCHIVE_MAX_ENTRIES', int(1, 1_000_000), 10_000, 'Entries (files, folders, anything) an uploaded zip or tar may hold; more and the whole archive is refused.'),
  uploadArchiveMaxBytes: setting('UPLOAD_ARCHIVE_MAX_BYTES', int(1, Number.MAX_SAFE_INTEGER), 4 * 1024 * MiB, 'Uncompressed bytes an uploaded archive may unpack to, all entries together; more (a zip bomb) and the whole archive is refused. Each image must also fit `MAX_FRAME_BYTES` and `MAX_PIXELS`.'),
  uploadBatchWindow: setting('UPLOAD_BATCH_WINDOW', int(1, 100_000), 32, 'Upload jobs stop publishing frames while this many wait in the batch queue, so an archive never sits in memory or the broker whole (live frames are served first regardless).'),

  // --- autoscaling and load history (server/scaling) ---
  scalingEnabled: setting('SCALING_ENABLED', bool(), false, 'Run the autoscaler in this process: it sets the number of inference workers from the queue, latency, throughput and the forecast (see docs/scaling.md). Enable it in one process per deployment.'),
  scalingActuator: setting('SCALING_ACTUATOR', z.enum(['local', 'kubernetes', 'none']), 'local', 'What the autoscaler changes: `local` (this process\'s worker threads; nothing in a gateway-only process), `kubernetes` (the worker Deployment\'s scale, or the KEDA ScaledObject\'s bounds) or `none` (decide and report only).'),
  scalingPeriodMs: setting('SCALING_PERIOD_MS', int(100, 3_600_000), 15_000, 'How often the autoscaler decides, ms (the HPA\'s sync period).'),
  scalingMinWorkers: setting('SCALING_MIN_WORKERS', int(1, 256), 1, 'Fewest inference workers, until an administrator saves scaling settings in the admin panel (which then apply, live).'),
  scalingMaxWorkers: setting('SCALING_MAX_WORKERS', int(1, 256), 4, 'Most inference workers, until an administrator saves scaling settings.'),
  scalingWorkerCapacityFps: setting('SCALING_WORKER_CAPACITY_FPS', num(0.01, 100_000), 10, 'Frames per second one worker serves, until an administrator saves scaling settings (measure: 1000 / serverInferMs of a load report).'),
  scalingWorkerStartSeconds: setting('SCALING_WORKER_START_SECONDS', num(0, 3600), 60, 'Seconds from asking for a worker to its first frame (a GPU pod: 30-90), until an administrator saves scaling settings. The what-if replay models it; the forecast lead should be longer.'),
  scalingK8sNamespace: setting('SCALING_K8S_NAMESPACE', str(), undefined, 'Kubernetes actuator: namespace of the worker Deployment / ScaledObject.', { defaultDoc: 'the pod\'s own namespace, else `default`' }),
  scalingK8sTarget: setting('SCALING_K8S_TARGET', z.enum(['deployment', 'scaledobject']), 'scaledobject', 'Kubernetes actuator: set the KEDA ScaledObject\'s `minReplicaCount` (this policy\'s count, the forecast included) and `maxReplicaCount` (`scaledobject`, for deploy/k8s where KEDA owns the worker count), or patch the worker Deployment\'s `scale` subresource (`deployment`, only where nothing else scales it).'),
  scalingK8sDeployment: setting('SCALING_K8S_DEPLOYMENT', str(), 'linesight-worker', 'Kubernetes actuator: the worker Deployment (scaled, and read for ready replicas in both modes).'),
  scalingK8sScaledObject: setting('SCALING_K8S_SCALEDOBJECT', str(), 'linesight-worker', 'Kubernetes actuator: the KEDA ScaledObject of the workers (with `SCALING_K8S_TARGET=scaledobject`).'),
  scalingK8sKubeconfig: setting('SCALING_K8S_KUBECONFIG', str(), undefined, 'Kubernetes actuator: kubeconfig file to use.', { defaultDoc: 'in-cluster service account, else `~/.kube/config`' }),
  loadHistoryFlushMs: setting('LOAD_HISTORY_FLUSH_MS', int(0, 3_600_000), 60_000, 'How often this process adds its per-line load (frames, skipped, browser frames, queue, workers, p95) to the per-minute load history the forecast, the what-if replay and the status page read, ms. 0 records nothing.'),
  loadHistoryRetentionDays: setting('LOAD_HISTORY_RETENTION_DAYS', num(0), 90, 'Load history older than this is deleted (0 keeps everything). The forecast reads the last 4 weeks.'),

  // --- review and candidate models (server/review, server/candidates) ---
  reviewNearThresholdMargin: setting('REVIEW_NEAR_THRESHOLD_MARGIN', num(0, 1), 0.05, 'A detection scoring less than this above its class threshold puts its frame in the review queue (`near_threshold`). Detections below the threshold are never kept, so only the side just above it can be seen. 0 turns this reason off.'),
  candidateWorkers: setting('CANDIDATE_WORKERS', int(0, 16), 1, 'Inference worker threads that run candidate models in shadow, apart from the ones that serve verdicts (`INFERENCE_WORKERS`): each has one onnxruntime thread and runs at the lowest CPU priority (Linux: SCHED_IDLE through util-linux `chrt`, else nice 19), so the kernel gives the cores to the current model first. A candidate is loaded on them when its line first samples a frame and unloaded when no line has it any more; one starved or stuck for 6 x `WATCHDOG_TIMEOUT_MS` is replaced (`linesight_candidate_worker_restarts_total`). 0 runs no candidates.'),
  candidateMaxInFlight: setting('CANDIDATE_MAX_IN_FLIGHT', int(0, 64), 1, 'Candidate-model inferences one process runs at once, in shadow, and only while a candidate worker (`CANDIDATE_WORKERS`) is idle and no live frame waits; a frame over this limit or arriving while they are busy is skipped (counted in `linesight_candidate_frames_total`). 0 runs no candidates.'),
  // --- parts (server/parts) ---
  partIdleMs: setting('PART_IDLE_MS', int(100, 3_600_000), 10_000, 'An open part with no new frame, result or end message for this long closes (`closedBy: idle`) with the verdict of the frames it has, ms. Parts normally close when their passage or trigger burst ends, or on `POST /api/v1/lines/:line/parts/:partId/close`.'),

  // --- distributed mode and shutdown (server/app.ts) ---
  resultRecoveryMs: setting('RESULT_RECOVERY_MS', int(0, 600_000), 10_000, 'RabbitMQ: a frame a gateway accepted whose result has not come back this long is looked up in the results store, then again at this interval (a result published while the gateway\'s results connection was down never reaches it); one still without a record `LIVE_FRAME_TTL_MS` + 3 intervals after it arrived is answered `rejected` (`lost`) so its station gets its credit back, ms. 0 turns this off.'),
  shutdownDrainMs: setting('SHUTDOWN_DRAIN_MS', int(0, 600_000), 2000, 'On SIGTERM a gateway answers `/ready` with 503 and keeps serving this long before it closes its listening sockets, so a load balancer polling `/ready` stops sending first; results of frames in flight still reach their stations meanwhile, ms. Workers stop consuming at once and finish what they hold. Behind Kubernetes the preStop sleep does the same job and this can be 0.'),
  // --- plant outputs: MQTT, OPC UA, webhooks (server/outputs, docs/plant-outputs.md) ---
  mqttUrl: setting('MQTT_URL', str(), undefined, 'MQTT broker to publish verdicts, station state and line stats to, and to take triggers from (`mqtt://host:1883`, `mqtts://host:8883`). Unset: MQTT off.', { secret: true }),
  mqttTopicPrefix: setting('MQTT_TOPIC_PREFIX', z.string().min(1).max(100).refine((v) => !/[#+]/.test(v) && !v.includes(String.fromCharCode(0)), 'a topic prefix without + or #').transform((v) => v.replace(/\/+$/, '')), 'linesight', 'First level of every MQTT topic: `<prefix>/<line>/<station>/part` and the rest (docs/plant-outputs.md).'),
  mqttUsername: setting('MQTT_USERNAME', str(), undefined, 'MQTT user name.'),
  mqttPassword: setting('MQTT_PASSWORD', str(), undefined, 'MQTT password.', { secret: true }),
  mqttClientId: setting('MQTT_CLIENT_ID', z.string().min(1).max(64), undefined, 'MQTT client id. Two linesight processes on one broker need different ones.', { defaultDoc: '`linesight-<host name>-<PORT>`' }),
  mqttCaFile: setting('MQTT_CA_FILE', str(), undefined, 'PEM CA certificate(s) to trust for an `mqtts://` broker (beside the system ones).'),
  mqttCertFile: setting('MQTT_CERT_FILE', str(), undefined, 'PEM client certificate for brokers that authenticate clients by certificate.'),
  mqttKeyFile: setting('MQTT_KEY_FILE', str(), undefined, 'PEM private key for `MQTT_CERT_FILE`.'),
  mqttRejectUnauthorized: setting('MQTT_REJECT_UNAUTHORIZED', bool(), true, 'Refuse an `mqtts://` broker whose certificate does not verify.'),
  mqttStatsIntervalMs: setting('MQTT_STATS_INTERVAL_MS', int(100, 3_600_000), 5000, 'How often each line\'s `<prefix>/<line>/stats` is published (retained), ms.'),
  outputsQueueMax: setting('OUTPUTS_QUEUE_MAX', int(1, 10_000_000), 10_000, 'Messages one plant output (MQTT, webhooks) may hold unsent; beyond it new ones are dropped and counted in `linesight_output_dropped_total`, so a dead broker or receiver never slows inspection.'),
  opcuaPort: setting('OPCUA_PORT', int(0, 65535), undefined, 'Port of the OPC UA server (`opc.tcp://<host>:<port>/linesight`). Unset: OPC UA off. Its certificates live in `<LINESIGHT_DATA_DIR>/opcua-pki`.'),
  opcuaAllowAnonymous: setting('OPCUA_ALLOW_ANONYMOUS', bool(), false, 'Let OPC UA clients in without a user name and password (read only: `Trigger` still needs a station or admin token). Off: the password must be a linesight token.'),
  webhookAllowedHosts: setting('WEBHOOK_ALLOWED_HOSTS', list(), [], 'Host names or IP addresses webhooks may be sent to, comma-separated. Empty: any (plant-network and loopback addresses included).'),
  webhookRetryScheduleMs: setting('WEBHOOK_RETRY_SCHEDULE_MS', z.string().transform((v, ctx) => { const xs = v.split(',').map((x) => Number(x.trim())); if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 0)) ctx.addIssue({ code: 'custom', message: 'comma-separated whole milliseconds' }); return xs }).or(z.array(z.number())), [5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000], 'Waits before each retry of a webhook delivery, ms; after the last one the delivery is dead-lettered (shown in the admin page, re-sendable). The default retries for about 8 hours.'),
  webhookTimeoutMs: setting('WEBHOOK_TIMEOUT_MS', int(100, 600_000), 10_000, 'Longest a webhook receiver may take to answer before the attempt counts as failed, ms.'),
} as const
