/**
 * Transport stage: the ingest handler behind uWebSockets.js, configured as the gateway configures
 * /ws/station (server/gateway/ws.ts). A forked child; tells its parent the port over IPC.
 */
import { selectUws, uws as loadedUws } from '../../server/gateway/uws.ts'
import { ingestHandler, type IngestHandler } from './handler.ts'

if (!process.send) throw new Error('uws-server.ts runs as a forked child (see transport/servers.ts)')

// a benchmark measures whatever loads, and reports which one it was
const { implementation: uwsImplementation } = selectUws(true)
const uws = loadedUws()
const app = uws.App()
app.ws<{ handler?: IngestHandler }>('/ws/station', {
  maxPayloadLength: 16 * 1024 * 1024 + 64 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  open: (ws) => {
    ws.getUserData().handler = ingestHandler((text) => {
      ws.cork(() => {
        ws.send(text, false)
      })
    })
  },
  message: (ws, message, isBinary) => {
    const h = ws.getUserData().handler!
    if (isBinary) h.onBinary(new Uint8Array(message))
    else h.onText(Buffer.from(message).toString('utf8'))
  },
})
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) throw new Error('uWS could not listen')
  process.send!({ port: uws.us_socket_local_port(socket as never), implementation: uwsImplementation })
})
process.on('disconnect', () => process.exit(0))
