/**
 * What the rest of the server may ask of part tracking (server/parts/), kept narrow so the
 * plant outputs (MQTT, OPC UA, webhooks) and the trigger routes depend on this and nothing more.
 */
import type { PartRecord } from '../../shared/domain/part.ts'

export interface TriggerRequest {
  line: string
  station: string
  /** From the PLC or MES; without it the part takes a barcode read from its frames or the station's sequence. */
  partId?: string
  /** Who asked, for the audit log: 'http', 'mqtt', 'opcua', 'station'. */
  via: string
}

export interface PartEvents {
  /** Called once per part when it closes (at least once across a restart: key on partId). */
  onPartClosed(listener: (part: PartRecord) => void): () => void
}

export interface PartTrigger {
  /** Starts a part at a station in `trigger` mode; resolves with the part id it will carry. */
  trigger(request: TriggerRequest): Promise<{ partId: string }>
}
