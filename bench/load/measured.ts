/**
 * A load run with the server's side of it: the server process's CPU over the same window as
 * the generator's count, in total and split by thread kind (cpu.ts), per completed frame.
 */
import { processCpu, threadCpuDelta, threadCpuMs } from '../cpu.ts'
import type { LoadCommand, LoadResult } from './protocol.ts'
import type { LoadGenerator } from './remote.ts'

export interface MeasuredRun extends LoadResult {
  server: {
    cpuMsPerFrame: number
    /** The part of it spent in the kernel (socket reads and writes, memory faults). */
    systemMsPerFrame: number
    /** CPU ms per frame by thread kind: main, other threads, libvips worker. */
    threadsMsPerFrame: Record<string, number>
    /** How long after the window's end the server's CPU was read (0 unless the machine starved this process). */
    sampledLateMs: number
  }
}

export async function measuredRun(gen: LoadGenerator, serverPid: number, cmd: LoadCommand): Promise<MeasuredRun> {
  type Snap = { at: number; cpu: ReturnType<typeof processCpu>; threads: ReturnType<typeof threadCpuMs> }
  const snap = (): Snap => ({ at: Date.now(), cpu: processCpu(serverPid), threads: threadCpuMs(serverPid) })
  let start: Snap | undefined
  let end: Snap | undefined
  let endAt = 0
  const timers: ReturnType<typeof setTimeout>[] = []
  const r = await gen
    .run(cmd, (w) => {
      endAt = w.endAt
      timers.push(setTimeout(() => (start = snap()), w.startAt - Date.now()))
      timers.push(setTimeout(() => (end = snap()), w.endAt - Date.now()))
    })
    .finally(() => timers.forEach(clearTimeout))
  if (!start) throw new Error('the server CPU was not sampled at the start of the window (no window was announced)')
  // on a starved machine the result can be read before the end-of-window timer ran: sample now,
  // and say how late (the CPU of the last answers' drain is then counted in)
  end ??= snap()
  const per = (ms: number) => ms / r.completed
  return {
    ...r,
    server: {
      cpuMsPerFrame: per(end.cpu.user + end.cpu.system - start.cpu.user - start.cpu.system),
      systemMsPerFrame: per(end.cpu.system - start.cpu.system),
      threadsMsPerFrame: Object.fromEntries(Object.entries(threadCpuDelta(serverPid, start.threads, end.threads)).map(([k, v]) => [k, per(v)])),
      sampledLateMs: Math.max(0, end.at - endAt),
    },
  }
}
