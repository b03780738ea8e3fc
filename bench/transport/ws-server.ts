/**
 * Transport stage: the same ingest handler behind the `ws` package (with its native bufferutil
 * masking, as an npm install gets it). A forked child; tells its parent the port over IPC.
 */
import { WebSocketServer } from 'ws'
import { ingestHandler } from './handler.ts'

if (!process.send) throw new Error('ws-server.ts runs as a forked child (see transport/servers.ts)')

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/station', perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 + 64 * 1024 })
server.on('connection', (socket) => {
  const h = ingestHandler((text) => socket.send(text))
  socket.on('message', (data, isBinary) => {
    const buf = data as Buffer
    if (isBinary) h.onBinary(new Uint8Array(buf.buffer, buf.byteOffset, buf.length))
    else h.onText(buf.toString('utf8'))
  })
})
server.on('listening', () => {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`)
  process.send!({ port: address.port, implementation: 'ws' })
})
process.on('disconnect', () => process.exit(0))
