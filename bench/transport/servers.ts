/** Forks a transport server (uws-server.ts or ws-server.ts) and waits for its port. */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface TransportServer {
  kind: 'uws' | 'ws'
  url: string
  pid: number
  implementation: string
  close(): Promise<void>
}

export async function startTransportServer(kind: 'uws' | 'ws'): Promise<TransportServer> {
  const entry = fileURLToPath(new URL(kind === 'uws' ? './uws-server.ts' : './ws-server.ts', import.meta.url))
  const child: ChildProcess = fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port, implementation } = await new Promise<{ port: number; implementation: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; implementation: string }))
    child.once('exit', (code) => reject(new Error(`the ${kind} transport server exited with ${code} before listening`)))
  })
  return {
    kind,
    url: `ws://127.0.0.1:${port}/ws/station`,
    pid: child.pid!,
    implementation,
    async close() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      await exited
    },
  }
}
