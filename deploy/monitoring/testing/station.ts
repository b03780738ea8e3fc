/**
 * A minimal station for the monitoring tests: speaks /ws/station with the shared protocol
 * (hello, binary frame envelopes, the station's reports) and records acks and results.
 */
import { randomUUID } from 'node:crypto'
import WebSocket from 'ws'
import { encodeEnvelope } from '../../../shared/protocol/envelope.ts'
import { authHeaders } from '../../../test/helpers/server.ts'
import { waitFor } from '../../../test/helpers/wait.ts'

export interface TestStation {
  ws: WebSocket
  acks: Map<string, string>
  results: Set<string>
  /** Sends one JPEG frame; returns its id. */
  sendFrame(image: { bytes: Uint8Array; width: number; height: number }, opts?: { audit?: boolean }): string
  /** A JSON message of the station protocol (skips, backend, shadow, ...). */
  report(message: Record<string, unknown>): void
  close(): void
}

export async function openStation(serverUrl: string, line: string, station: string): Promise<TestStation> {
  const ws = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/ws/station`, { headers: authHeaders(serverUrl) })
  const acks = new Map<string, string>()
  const results = new Set<string>()
  const errors: string[] = []
  let welcomed = false
  ws.on('message', (data, isBinary) => {
    if (isBinary) return
    const m = JSON.parse(String(data as Buffer)) as { type: string; frameId?: string; status?: string; result?: { frameId: string }; error?: { code: string } }
    if (m.type === 'welcome') welcomed = true
    if (m.type === 'ack' && m.frameId) acks.set(m.frameId, m.status!)
    if (m.type === 'result' && m.result) results.add(m.result.frameId)
    if (m.type === 'error') errors.push(m.error?.code ?? 'unknown')
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.send(JSON.stringify({ type: 'hello', line, station }))
  await waitFor(
    () => {
      if (errors.length) throw new Error(`the server refused hello: ${errors.join(', ')}`)
      return welcomed
    },
    { timeoutMs: 10_000, what: 'welcome' },
  )
  return {
    ws,
    acks,
    results,
    sendFrame(image, opts = {}) {
      const frameId = randomUUID()
      ws.send(encodeEnvelope({ kind: 'frame', frameId, line, station, capturedAt: Date.now(), mime: 'image/jpeg', width: image.width, height: image.height, audit: Boolean(opts.audit), shadow: false, payload: image.bytes }))
      return frameId
    },
    report(message) {
      ws.send(JSON.stringify(message))
    },
    close() {
      ws.close()
    },
  }
}
