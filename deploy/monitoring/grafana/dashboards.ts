/**
 * The five linesight dashboards: overview, one line ($line), inference, queue, stations and
 * browsers. Every series named here is checked against the metrics registry and every query is
 * run against a real Prometheus by test/integration/monitoring-dashboards.test.ts.
 */
import type { DashboardSpec } from './model.ts'

const R = '$__rate_interval'
const p95 = (bucket: string, by: string, selector = '') => `histogram_quantile(0.95, sum by (le${by ? `, ${by}` : ''}) (rate(${bucket}${selector}[${R}])))`

const overview: DashboardSpec = {
  uid: 'linesight-overview',
  title: 'linesight / Overview',
  description: 'Is inspection running everywhere, how fast, and what is failing.',
  rows: [
    {
      title: 'Now',
      panels: [
        { kind: 'stat', w: 4, title: 'Processes up', description: 'linesight processes Prometheus can scrape.', queries: [{ expr: 'sum(up{job="linesight"})' }] },
        { kind: 'stat', w: 4, title: 'Frames / s', description: 'Frames received for inspection, all lines.', unit: 'ops', queries: [{ expr: `sum(rate(linesight_frames_received_total{source!="browser"}[${R}]))` }] },
        { kind: 'stat', w: 4, title: 'Fail rate', description: 'Share of results with verdict fail.', unit: 'percentunit', thresholds: [[0.05, 'orange'], [0.2, 'red']], queries: [{ expr: `sum(rate(linesight_results_total{verdict="fail"}[${R}])) / sum(rate(linesight_results_total[${R}]))` }] },
        { kind: 'stat', w: 4, title: 'p95 latency', description: 'End-to-end: frame received to result pushed (LinesightDetectionLatencyHigh at 1 s).', unit: 's', thresholds: [[0.5, 'orange'], [1, 'red']], queries: [{ expr: p95('linesight_e2e_latency_seconds_bucket', '') }] },
        { kind: 'stat', w: 4, title: 'Live queue', description: 'Frames waiting (LinesightQueueBacklog above 50).', thresholds: [[20, 'orange'], [50, 'red']], queries: [{ expr: 'max(linesight_queue_depth{queue="live"})' }] },
        { kind: 'stat', w: 4, title: 'Stations connected', description: 'Open station WebSockets.', queries: [{ expr: 'sum(linesight_ws_connections{role="station"})' }] },
      ],
    },
    {
      title: 'Traffic',
      panels: [
        { kind: 'timeseries', title: 'Frames received by line', description: 'Frames sent to the server, per line.', unit: 'ops', queries: [{ expr: `sum by (line) (rate(linesight_frames_received_total{source!="browser"}[${R}]))`, legend: '{{line}}' }] },
        { kind: 'timeseries', title: 'Results by verdict', description: 'Results recorded per second, by verdict and where inferred.', unit: 'ops', stacked: true, queries: [{ expr: `sum by (verdict, where) (rate(linesight_results_total[${R}]))`, legend: '{{verdict}} ({{where}})' }] },
        { kind: 'timeseries', title: 'Frames dropped by reason', description: 'Frames that got no result (LinesightFramesDropped).', unit: 'ops', stacked: true, queries: [{ expr: `sum by (reason) (rate(linesight_frames_dropped_total[${R}]))`, legend: '{{reason}}' }] },
        { kind: 'timeseries', title: 'HTTP requests by status', description: 'Requests answered, by status class (LinesightHttpErrors).', unit: 'reqps', stacked: true, queries: [{ expr: `sum by (status) (rate(linesight_http_requests_total[${R}]))`, legend: '{{status}}' }] },
      ],
    },
    {
      title: 'Alerts',
      panels: [{ kind: 'table', w: 24, title: 'Firing alerts', description: 'linesight alerts firing now (docs/runbook.md explains each).', queries: [{ expr: 'ALERTS{alertstate="firing", alertname=~"Linesight.*"}', instant: true }] }],
    },
  ],
}

const line: DashboardSpec = {
  uid: 'linesight-line',
  title: 'linesight / Line',
  description: 'One production line: traffic, verdicts, defects found, and how far the stations\' prefilter and browser inference can be trusted.',
  variables: [{ name: 'line', label: 'Line', query: 'label_values(linesight_frames_received_total, line)' }],
  rows: [
    {
      title: 'Traffic and verdicts',
      panels: [
        {
          kind: 'timeseries',
          title: 'Frames sent and skipped',
          description: 'Frames sent for inspection and frames the stations\' prefilter skipped.',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(linesight_frames_received_total{line="$line", source!="browser"}[${R}]))`, legend: 'sent' },
            { expr: `sum(rate(linesight_frames_skipped_total{line="$line"}[${R}]))`, legend: 'skipped' },
          ],
        },
        { kind: 'timeseries', title: 'Results by verdict', description: 'By verdict and where inferred (server, browser).', unit: 'ops', stacked: true, queries: [{ expr: `sum by (verdict, where) (rate(linesight_results_total{line="$line"}[${R}]))`, legend: '{{verdict}} ({{where}})' }] },
        { kind: 'timeseries', title: 'Detections by class', description: 'Objects found per second, by class.', unit: 'ops', stacked: true, queries: [{ expr: `sum by (class) (rate(linesight_detections_total{line="$line"}[${R}]))`, legend: '{{class}}' }] },
        {
          kind: 'timeseries',
          title: 'Activity against yesterday',
          description: 'Frames sent or skipped now and 24 hours ago (LinesightStationSilent compares the two).',
          unit: 'ops',
          queries: [
            { expr: 'linesight:line_activity:rate15m{line="$line"}', legend: 'today' },
            { expr: 'linesight:line_activity:rate15m{line="$line"} offset 1d', legend: 'yesterday' },
          ],
        },
      ],
    },
    {
      title: 'Prefilter and browser inference',
      panels: [
        { kind: 'timeseries', title: 'Skips by reason', description: 'Why the prefilter skipped frames.', unit: 'ops', stacked: true, queries: [{ expr: `sum by (reason) (rate(linesight_frames_skipped_total{line="$line"}[${R}]))`, legend: '{{reason}}' }] },
        {
          kind: 'timeseries',
          title: 'Prefilter audit misses',
          description: 'Share of audited skips that showed a defect, last hour (LinesightPrefilterAuditMisses at 5%).',
          unit: 'percentunit',
          queries: [{ expr: 'sum(increase(linesight_prefilter_audit_total{line="$line", outcome="defect"}[1h])) / sum(increase(linesight_prefilter_audit_total{line="$line"}[1h]))', legend: 'misses' }],
        },
        {
          kind: 'timeseries',
          title: 'Shadow disagreement',
          description: 'Unmatched detections per shadow-checked frame, browser against server, last hour (LinesightShadowDisagreement at 0.1).',
          queries: [{ expr: 'sum by (ep) (increase(linesight_shadow_disagreements_total{line="$line"}[1h])) / sum by (ep) (increase(linesight_shadow_checks_total{line="$line"}[1h]))', legend: '{{ep}}' }],
        },
      ],
    },
  ],
}

const inference: DashboardSpec = {
  uid: 'linesight-inference',
  title: 'linesight / Inference',
  description: 'Where the time goes: stages, models, execution providers, workers and GPUs.',
  variables: [{ name: 'model', label: 'Model', query: 'label_values(linesight_inference_seconds_count, model)', multi: true }],
  rows: [
    {
      title: 'Latency',
      panels: [
        {
          kind: 'timeseries',
          title: 'End-to-end latency',
          description: 'Frame received by the gateway to result pushed, by source.',
          unit: 's',
          queries: [
            { expr: p95('linesight_e2e_latency_seconds_bucket', 'source'), legend: 'p95 {{source}}' },
            { expr: `histogram_quantile(0.5, sum by (le, source) (rate(linesight_e2e_latency_seconds_bucket[${R}])))`, legend: 'p50 {{source}}' },
          ],
        },
        { kind: 'timeseries', title: 'Time per stage (p95)', description: 'queue, decode, infer, postprocess, record, push.', unit: 's', queries: [{ expr: p95('linesight_stage_seconds_bucket', 'stage'), legend: '{{stage}}' }] },
        { kind: 'timeseries', title: 'Server inference (p95)', description: 'Model time per frame on the server, by model and execution provider.', unit: 's', queries: [{ expr: p95('linesight_inference_seconds_bucket', 'model, ep', '{where="server", model=~"$model"}'), legend: '{{model}} {{ep}}' }] },
        {
          kind: 'timeseries',
          title: 'Mean batch size',
          description: 'Frames per model call (BATCH_MAX_SIZE, BATCH_MAX_DELAY_MS).',
          queries: [{ expr: `sum by (model) (rate(linesight_inference_batch_size_sum{model=~"$model"}[${R}])) / sum by (model) (rate(linesight_inference_batch_size_count{model=~"$model"}[${R}]))`, legend: '{{model}}' }],
        },
      ],
    },
    {
      title: 'Workers and models',
      panels: [
        { kind: 'timeseries', title: 'Inference workers', description: 'Worker threads per process.', stacked: true, queries: [{ expr: 'sum by (instance) (linesight_inference_workers)', legend: '{{instance}}' }] },
        { kind: 'timeseries', title: 'Worker restarts', description: 'Workers the watchdog replaced, per hour (LinesightWorkerRestarts).', queries: [{ expr: 'sum by (reason) (increase(linesight_worker_restarts_total[1h]))', legend: '{{reason}}' }] },
        { kind: 'table', title: 'Models serving', description: 'Model name, version, task and the execution provider that actually runs it, per process.', queries: [{ expr: 'linesight_model_info == 1', instant: true }] },
        { kind: 'timeseries', title: 'Paused', description: '1 while an administrator paused inference (LinesightInferencePaused).', queries: [{ expr: 'max by (instance) (linesight_inference_paused)', legend: '{{instance}}' }] },
      ],
    },
    {
      title: 'GPU (only where nvidia-smi exists)',
      panels: [
        { kind: 'timeseries', title: 'GPU utilisation', description: 'Busy time per GPU.', unit: 'percentunit', queries: [{ expr: 'linesight_gpu_utilization_ratio', legend: '{{instance}} GPU {{gpu}}' }] },
        { kind: 'timeseries', title: 'GPU memory used', description: 'Share of memory in use per GPU (LinesightGpuMemoryNearlyFull at 95%).', unit: 'percentunit', queries: [{ expr: 'linesight_gpu_memory_used_bytes / linesight_gpu_memory_total_bytes', legend: '{{instance}} GPU {{gpu}}' }] },
      ],
    },
  ],
}

const queue: DashboardSpec = {
  uid: 'linesight-queue',
  title: 'linesight / Queue',
  description: 'Frames waiting, flowing in and out, and those that never made it.',
  rows: [
    {
      title: 'Depth and flow',
      panels: [
        { kind: 'timeseries', title: 'Depth by queue', description: 'live, batch (uploads), unacked (delivered, in inference), dead (kept dead letters).', queries: [{ expr: 'max by (queue) (linesight_queue_depth)', legend: '{{queue}}' }] },
        {
          kind: 'timeseries',
          title: 'In and out',
          description: 'Frames queued against results inferred on the server: in above out means the queue grows.',
          unit: 'ops',
          queries: [
            { expr: `sum(rate(linesight_frames_received_total{source!="browser"}[${R}]))`, legend: 'in' },
            { expr: `sum(rate(linesight_results_total{where="server"}[${R}]))`, legend: 'out' },
          ],
        },
        { kind: 'timeseries', title: 'Time in queue (p95)', description: 'From received to taken by a worker.', unit: 's', queries: [{ expr: p95('linesight_stage_seconds_bucket', '', '{stage="queue"}'), legend: 'p95' }] },
        { kind: 'timeseries', title: 'Dead letters by reason', description: 'Frames dead-lettered (LinesightDeadLetters).', unit: 'ops', stacked: true, queries: [{ expr: `sum by (reason) (rate(linesight_dead_letters_total[${R}]))`, legend: '{{reason}}' }] },
        { kind: 'timeseries', title: 'Refused as busy or expired', description: 'Frames the queue refused (full) or that waited past LIVE_FRAME_TTL_MS.', unit: 'ops', queries: [{ expr: `sum by (reason) (rate(linesight_frames_dropped_total{reason=~"busy|expired|unavailable"}[${R}]))`, legend: '{{reason}}' }] },
      ],
    },
  ],
}

const stations: DashboardSpec = {
  uid: 'linesight-stations',
  title: 'linesight / Stations and browsers',
  description: 'What the stations report about themselves: connections, chosen backend, local inference time, prefilter skips, shadow checks.',
  variables: [{ name: 'line', label: 'Line', query: 'label_values(linesight_station_backend_info, line)', multi: true }],
  rows: [
    {
      title: 'Connections and backends',
      panels: [
        { kind: 'timeseries', title: 'Open WebSockets', description: 'Stations and kiosks connected.', queries: [{ expr: 'sum by (role) (linesight_ws_connections)', legend: '{{role}}' }] },
        { kind: 'timeseries', title: 'Stations by backend', description: 'Execution provider each station chose for browser inference.', stacked: true, queries: [{ expr: 'count by (ep) (linesight_station_backend_info{line=~"$line"})', legend: '{{ep}}' }] },
        { kind: 'table', w: 24, title: 'Stations', description: 'Every connected station and its backend.', queries: [{ expr: 'linesight_station_backend_info{line=~"$line"}', instant: true }] },
      ],
    },
    {
      title: 'Browser inference and prefilter',
      panels: [
        { kind: 'timeseries', title: 'Browser inference (p95)', description: 'Model time per frame in the browser, by execution provider.', unit: 's', queries: [{ expr: p95('linesight_inference_seconds_bucket', 'ep', '{where="browser"}'), legend: '{{ep}}' }] },
        { kind: 'timeseries', title: 'Where results are inferred', description: 'Results per second inferred on the server and in browsers.', unit: 'ops', stacked: true, queries: [{ expr: `sum by (where) (rate(linesight_results_total{line=~"$line"}[${R}]))`, legend: '{{where}}' }] },
        {
          kind: 'timeseries',
          title: 'Prefilter skip rate',
          description: 'Share of captured frames the prefilter skipped, by line.',
          unit: 'percentunit',
          queries: [{ expr: `sum by (line) (rate(linesight_frames_skipped_total{line=~"$line"}[${R}])) / (sum by (line) (rate(linesight_frames_skipped_total{line=~"$line"}[${R}])) + sum by (line) (rate(linesight_frames_received_total{line=~"$line", source="ws"}[${R}])))`, legend: '{{line}}' }],
        },
        {
          kind: 'timeseries',
          title: 'Shadow disagreement',
          description: 'Unmatched detections per shadow-checked frame, by line and browser execution provider, last hour.',
          queries: [{ expr: 'sum by (line, ep) (increase(linesight_shadow_disagreements_total{line=~"$line"}[1h])) / sum by (line, ep) (increase(linesight_shadow_checks_total{line=~"$line"}[1h]))', legend: '{{line}} {{ep}}' }],
        },
        { kind: 'timeseries', title: 'Kiosk results skipped', description: 'Results not sent to a kiosk whose socket was backed up.', unit: 'ops', queries: [{ expr: `sum(rate(linesight_kiosk_messages_skipped_total[${R}]))`, legend: 'skipped' }] },
      ],
    },
  ],
}

export const DASHBOARDS: readonly DashboardSpec[] = [overview, line, inference, queue, stations]

/** The file each dashboard is written to, under dashboards/. */
export const fileName = (d: DashboardSpec) => `${d.uid.replace(/^linesight-/, '')}.json`
