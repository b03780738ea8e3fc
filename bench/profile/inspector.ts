/**
 * CPU-profiles another Node process through its inspector (started with `--inspect=127.0.0.1:0`
 * in NODE_OPTIONS, where `--cpu-prof` is not allowed), for exactly the window of one run. The
 * profile is V8's sampling profiler, the same one `node --cpu-prof` writes.
 */
import WebSocket from 'ws'

export interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
}

export interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The inspector's WebSocket URL from the process's log lines ("Debugger listening on ws://..."). */
export function debuggerUrl(logs: readonly Record<string, unknown>[]): string | undefined {
  for (const l of logs) {
    const m = typeof l.msg === 'string' ? /Debugger listening on (ws:\/\/\S+)/.exec(l.msg) : null
    if (m) return m[1]
  }
  return undefined
}

export class Inspector {
  #id = 0
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const m = JSON.parse(String(data as Buffer)) as { id?: number; result?: unknown; error?: { message: string } }
      if (m.id === undefined) return // an event
      const p = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.error) p?.reject(new Error(`inspector: ${m.error.message}`))
      else p?.resolve(m.result)
    })
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('inspector connection closed'))
      this.#pending.clear()
    })
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 })
      socket.once('open', () => resolve(new Inspector(socket)))
      socket.once('error', reject)
    })
  }

  post<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.#id
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  async profile<T>(during: () => Promise<T>, samplingIntervalUs = 250): Promise<{ result: T; profile: CpuProfile }> {
    await this.post('Profiler.enable')
    await this.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs })
    await this.post('Profiler.start')
    const result = await during().catch(async (e: unknown) => {
      // the run's error is the one worth reporting; a failure to stop is appended to it
      await this.post('Profiler.stop').catch((stopError: unknown) => {
        throw new AggregateError([e, stopError], 'the profiled run failed, and stopping the profiler failed too')
      })
      throw e
    })
    const { profile } = await this.post<{ profile: CpuProfile }>('Profiler.stop')
    await this.post('Profiler.disable')
    return { result, profile }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.close()
    })
  }
}
