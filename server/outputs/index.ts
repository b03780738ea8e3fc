/**
 * The plant outputs of one gateway process: MQTT and OPC UA when configured, webhooks always
 * (nothing is sent until an administrator adds an endpoint), fed by one dispatcher. Each takes
 * only what it uses: the result bus, part events and triggers (server/parts/contract.ts), the
 * stations connected here, the store's webhook tables and the token check.
 */
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { Principal } from '../auth/principal.ts'
import type { Config } from '../config/index.ts'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { PartEvents, PartTrigger } from '../parts/contract.ts'
import type { WebhookStore } from '../storage/webhooks.ts'
import { OutputDispatcher } from './dispatcher.ts'
import { MqttOutput } from './mqtt.ts'
import type { OpcUaOutput } from './opcua/server.ts'
import type { ModeOf, OutputSink, StationPresence } from './types.ts'
import { WebhookDeliverer } from './webhooks/deliverer.ts'
import { WebhookOutput } from './webhooks/output.ts'

export interface OutputsDeps {
  config: Config
  /** LINESIGHT_DATA_DIR, resolved. */
  dataDir: string
  results: { subscribe(listener: (r: InspectionResult) => void): () => void }
  parts?: PartEvents
  trigger?: PartTrigger
  presence?: StationPresence
  modeOf?: ModeOf
  webhooks: WebhookStore
  /** A token's principal (OPC UA passwords are linesight tokens). */
  authenticate: (secret: string) => Promise<Principal | null>
  metrics: Metrics
  log: Logger
}

export interface Outputs {
  dispatcher: OutputDispatcher
  mqtt?: MqttOutput
  opcua?: OpcUaOutput
  webhooks: WebhookOutput
  deliverer: WebhookDeliverer
  close(): Promise<void>
}

export async function startOutputs(d: OutputsDeps): Promise<Outputs> {
  const c = d.config
  const sinks: OutputSink[] = []
  let mqtt: MqttOutput | undefined
  if (c.mqttUrl) {
    mqtt = new MqttOutput({
      url: c.mqttUrl,
      prefix: c.mqttTopicPrefix,
      clientId: c.mqttClientId ?? `linesight-${hostname()}-${c.port}`.slice(0, 64),
      ...(c.mqttUsername ? { username: c.mqttUsername } : {}),
      ...(c.mqttPassword ? { password: c.mqttPassword } : {}),
      ...(c.mqttCaFile ? { caFile: c.mqttCaFile } : {}),
      ...(c.mqttCertFile ? { certFile: c.mqttCertFile } : {}),
      ...(c.mqttKeyFile ? { keyFile: c.mqttKeyFile } : {}),
      rejectUnauthorized: c.mqttRejectUnauthorized,
      queueMax: c.outputsQueueMax,
      ...(d.trigger ? { trigger: d.trigger } : {}),
      metrics: d.metrics,
      log: d.log,
    })
    sinks.push(mqtt)
  }
  let opcua: OpcUaOutput | undefined
  if (c.opcuaPort !== undefined) {
    // node-opcua is large: loaded only where OPC UA is on
    const { startOpcUa } = await import('./opcua/server.ts')
    opcua = await startOpcUa({
      port: c.opcuaPort,
      pkiDir: join(d.dataDir, 'opcua-pki'),
      allowAnonymous: c.opcuaAllowAnonymous,
      authenticate: d.authenticate,
      ...(d.trigger ? { trigger: d.trigger } : {}),
      metrics: d.metrics,
      log: d.log,
    })
    sinks.push(opcua)
    d.log.info({ endpoint: opcua.endpoint }, 'OPC UA server listening')
  }
  const deliverer = new WebhookDeliverer({ store: d.webhooks, retryScheduleMs: c.webhookRetryScheduleMs, timeoutMs: c.webhookTimeoutMs, metrics: d.metrics, log: d.log })
  const webhooks = new WebhookOutput({ store: d.webhooks, queueMax: c.outputsQueueMax, metrics: d.metrics, log: d.log, onQueued: () => deliverer.poke() })
  sinks.push(webhooks)
  const dispatcher = new OutputDispatcher({
    sinks,
    results: d.results,
    ...(d.parts ? { parts: d.parts } : {}),
    ...(d.presence ? { presence: d.presence } : {}),
    ...(d.modeOf ? { modeOf: d.modeOf } : {}),
    statsIntervalMs: c.mqttStatsIntervalMs,
    log: d.log,
  })
  return {
    dispatcher,
    ...(mqtt ? { mqtt } : {}),
    ...(opcua ? { opcua } : {}),
    webhooks,
    deliverer,
    async close() {
      await dispatcher.close()
      await deliverer.close()
    },
  }
}
