/**
 * The parent's handle on the load-generator process: fork it once, send it commands, get
 * results. Buffers cross as structured clones (the IPC channel's 'advanced' serialization).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tokenFor } from '../../test/helpers/server.ts'
import { processCpuMs } from '../cpu.ts'
import type { GeneratorReply, LoadCommand, LoadResult } from './protocol.ts'

export class LoadGenerator {
  #pending: { resolve: (r: GeneratorReply) => void; reject: (e: Error) => void } | undefined
  #onWindow: ((w: { startAt: number; endAt: number }) => void) | undefined
  #exit: Error | undefined

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: GeneratorReply) => {
      if (m.type === 'window') return this.#onWindow?.(m)
      const p = this.#pending
      this.#pending = undefined
      p?.resolve(m)
    })
    child.on('exit', (code, signal) => {
      this.#exit = new Error(`the load generator exited (${code ?? signal})`)
      this.#pending?.reject(this.#exit)
    })
  }

  get pid(): number {
    return this.child.pid!
  }

  static async start(): Promise<LoadGenerator> {
    const child = fork(fileURLToPath(new URL('./generator.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const g = new LoadGenerator(child)
    const first = await g.#next()
    if (first.type !== 'ready') throw new Error(`the load generator did not start: ${JSON.stringify(first)}`)
    return g
  }

  #next(): Promise<GeneratorReply> {
    if (this.#exit) return Promise.reject(this.#exit)
    return new Promise((resolve, reject) => (this.#pending = { resolve, reject }))
  }

  /** Runs one command; `onWindow` hears the measurement window's bounds as the run starts. */
  async run(cmd: LoadCommand, onWindow?: (w: { startAt: number; endAt: number }) => void): Promise<LoadResult> {
    this.#onWindow = onWindow
    const reply = this.#next()
    // servers run with AUTH_REQUIRED on: the generator signs in with the admin token of a server
    // this process started (test/helpers/server.ts), none for the bare transport servers
    const token = cmd.token ?? tokenFor(cmd.url)
    this.child.send(token ? { ...cmd, token } : cmd)
    const r = await reply
    if (r.type !== 'result') throw new Error(`load generator: ${r.type === 'failed' ? r.message : 'unexpected reply'}`)
    return r.result
  }

  cpuMs(): number {
    return processCpuMs(this.pid)
  }

  async close(): Promise<void> {
    if (this.#exit) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.disconnect()
    await exited
  }
}
