/**
 * The alerting path end to end, all real processes: linesight -> Prometheus (the shipped
 * prometheus.yml and alerts.yml, rendered by deploy/monitoring/testing/render.ts with this test's
 * target, 1 s intervals and every `for:` capped at 10 s) -> Alertmanager -> a webhook receiver
 * inside this test. The fault: inference paused while a station keeps sending, so the live queue
 * backs up; LinesightQueueBacklog must reach the webhook, then resolve once inference resumes.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderedRulesDiffer, renderPrometheusConfig, renderRules } from '../../deploy/monitoring/testing/render.ts'
import { metricsToken, monitoringBinaries, promQuery, startAlertmanager, startPrometheus, type Daemon } from '../../deploy/monitoring/testing/processes.ts'
import { openStation, type TestStation } from '../../deploy/monitoring/testing/station.ts'
import { loadSamples } from '../helpers/samples.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const bins = await monitoringBinaries()
const missing = !bins.prometheus || !bins.alertmanager
if (missing) console.warn('monitoring-e2e: prometheus or prometheus-alertmanager is not installed (Debian: apt-get install prometheus prometheus-alertmanager); skipping')

/** LinesightQueueBacklog's threshold in alerts.yml is "more than 50 waiting". */
const FRAMES = 64
const MON = join(ROOT, 'deploy/monitoring')

interface Notification {
  status: 'firing' | 'resolved'
  receivedAt: number
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[]
}

let server: RunningServer | undefined
let prometheus: Daemon | undefined
let alertmanager: Daemon | undefined
let webhook: Server | undefined
let station: TestStation | undefined
const notifications: Notification[] = []

async function startWebhook(): Promise<{ server: Server; url: string }> {
  const s = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Notification, 'receivedAt'>
      notifications.push({ ...body, receivedAt: Date.now() })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return { server: s, url: `http://127.0.0.1:${(s.address() as { port: number }).port}/alerts` }
}

/** The first notification from `since` on carrying `alertname` in `status`. */
const notified = (alertname: string, status: 'firing' | 'resolved', since: number) =>
  notifications.find((n) => n.receivedAt >= since && n.alerts.some((a) => a.labels.alertname === alertname && a.status === status))

beforeAll(async () => {
  if (missing) return
  server = await startServer({
    // frames must wait in the queue, not expire (5 s by default) or bounce off the credit (8)
    env: { STATION_CREDIT: String(FRAMES + 16), LIVE_FRAME_TTL_MS: '600000' },
  })
  const hook = await startWebhook()
  webhook = hook.server
  alertmanager = await startAlertmanager(
    bins.alertmanager!,
    [
      'route:',
      '  receiver: test',
      '  group_by: [alertname]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: test',
      '    webhook_configs:',
      `      - url: ${hook.url}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  )
  const shippedRules = readFileSync(join(MON, 'alerts.yml'), 'utf8')
  // above Prometheus's ~5 s from start to first scrape, or the absence alerts (LinesightNoGateway,
  // LinesightNoWorker) would fire before linesight was ever scraped
  const rules = renderRules(shippedRules, '10s')
  expect(renderedRulesDiffer(shippedRules, rules)).toEqual([])
  const config = renderPrometheusConfig(readFileSync(join(MON, 'prometheus.yml'), 'utf8'), {
    target: new URL(server.url).host,
    alertmanager: new URL(alertmanager.url).host,
    ruleFile: 'alerts.yml',
    interval: '1s',
  })
  prometheus = await startPrometheus(bins.prometheus!, config, { 'linesight-metrics-token': await metricsToken(server!), 'alerts.yml': rules })
}, 300_000)

afterAll(async () => {
  station?.close()
  await server?.stop()
  await prometheus?.stop()
  await alertmanager?.stop()
  await new Promise((r) => (webhook ? webhook.close(r) : r(undefined)))
})

describe.skipIf(missing)('monitoring end to end', () => {
  it('scrapes linesight through the shipped job and its relabelling', async () => {
    const up = await waitFor(
      async () => {
        const r = await promQuery(prometheus!.url, 'up{job="linesight"} == 1')
        return r.ok && r.result.length === 1 ? r.result[0] : undefined
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'Prometheus to scrape linesight' },
    )
    expect(up.metric.role).toBe('all')
    expect(up.metric.instance).toBe(new URL(server!.url).host)
  })

  it('raises LinesightQueueBacklog at the webhook while inference is paused, and resolves it after resume', async () => {
    const paused = await server!.admin('/api/v1/admin/inference/pause', { method: 'POST' })
    expect(paused.status).toBe(200)

    const sample = loadSamples()[0]!
    const link = await openStation(server!.url, 'L1', 'S1')
    station = link
    const sentAt = Date.now()
    const ids = Array.from({ length: FRAMES }, () => link.sendFrame(sample))
    await waitFor(() => ids.every((id) => link.acks.get(id) === 'accepted'), { timeoutMs: 30_000, what: `${FRAMES} frames accepted` })
    // the queue holds them all: nothing was taken off while paused
    await waitFor(
      async () => {
        const r = await promQuery(prometheus!.url, 'linesight_queue_depth{queue="live"}')
        return r.ok && Number(r.result[0]?.value[1]) === FRAMES
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `Prometheus to see ${FRAMES} frames in the live queue` },
    )

    const fired = await waitFor(() => notified('LinesightQueueBacklog', 'firing', sentAt), { timeoutMs: 90_000, intervalMs: 100, what: 'LinesightQueueBacklog at the webhook' })
    const alert = fired.alerts.find((a) => a.labels.alertname === 'LinesightQueueBacklog')!
    expect(alert.labels).toMatchObject({ job: 'linesight', queue: 'live', severity: 'warning', component: 'queue' })
    expect(alert.annotations.summary).toBe(`${FRAMES} live frames are waiting and the queue is not draining`)
    expect(alert.annotations.runbook_url).toMatch(/docs\/runbook\.md#linesightqueuebacklog$/)
    console.info(`monitoring-e2e: LinesightQueueBacklog reached the webhook ${fired.receivedAt - sentAt} ms after the first frame was sent`)

    const resumedAt = Date.now()
    const resumed = await server!.admin('/api/v1/admin/inference/resume', { method: 'POST' })
    expect(resumed.status).toBe(200)
    await waitFor(() => ids.every((id) => link.results.has(id)), { timeoutMs: 120_000, what: `results for all ${FRAMES} frames` })
    const resolved = await waitFor(() => notified('LinesightQueueBacklog', 'resolved', resumedAt), { timeoutMs: 90_000, intervalMs: 100, what: 'LinesightQueueBacklog resolved at the webhook' })
    console.info(`monitoring-e2e: LinesightQueueBacklog resolved at the webhook ${resolved.receivedAt - resumedAt} ms after resume`)
  }, 300_000)

  it('also reported the pause itself, and resolved it after resume', async () => {
    const seen = (status: string) => notifications.some((n) => n.alerts.some((a) => a.labels.alertname === 'LinesightInferencePaused' && a.status === status))
    expect(seen('firing')).toBe(true)
    await waitFor(() => seen('resolved'), { timeoutMs: 60_000, intervalMs: 100, what: 'LinesightInferencePaused resolved at the webhook' })
  })

  // Frames that waited in the queue arrive late once inference resumes, so the latency alert may
  // follow; anything else (dead letters, drops, a silent line, a restart) would be a false alarm.
  it('sent no alert that the fault does not explain', () => {
    const explained = new Set(['LinesightQueueBacklog', 'LinesightInferencePaused', 'LinesightDetectionLatencyHigh'])
    const names = new Set(notifications.flatMap((n) => n.alerts.map((a) => a.labels.alertname)))
    console.info(`monitoring-e2e: alerts notified: ${[...names].sort().join(', ')}`)
    expect([...names].filter((n) => !explained.has(n))).toEqual([])
  })
})
