/**
 * CPU time, the figure a shared machine cannot blur: wall-clock frames/s swing with the
 * neighbours' load, CPU ms per frame stays put, and cores / (CPU s per frame) is what a dedicated
 * machine of this kind would reach. Read from /proc for other processes and their threads.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_S = 100 // USER_HZ on Linux

/** utime and stime of a /proc stat line, ms; the command name may contain spaces and parentheses. */
function statCpu(stat: string): { user: number; system: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: (Number(fields[11]) * 1000) / TICKS_PER_S, system: (Number(fields[12]) * 1000) / TICKS_PER_S }
}

function statCpuMs(stat: string): number {
  const c = statCpu(stat)
  return c.user + c.system
}

/** CPU ms a process has used so far, every thread included, in user space and in the kernel. */
export function processCpu(pid: number): { user: number; system: number } {
  return statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'))
}

export function processCpuMs(pid: number): number {
  const c = processCpu(pid)
  return c.user + c.system
}

export function ownCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** CPU ms per thread of a process, keyed by thread id. */
export function threadCpuMs(pid: number): Map<number, { comm: string; ms: number }> {
  const out = new Map<number, { comm: string; ms: number }>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      out.set(Number(tid), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: statCpuMs(stat) })
    } catch {
      // the thread ended between listing and reading; its time is lost to both snapshots alike
    }
  }
  return out
}

/**
 * CPU ms per kind of thread between two snapshots of process `pid`. Node 20 names none of its
 * threads (workers, libuv's pool, V8's helpers are all `node`), so the split that can be made is:
 * the main thread (tid = pid: gateway, queue, processor, recorder, pool dispatch, SQLite), threads
 * that name themselves (`libvips worker`), and every other thread together (inference workers
 * with their onnxruntime session and sharp calls, libuv's pool, V8's GC helpers).
 */
export function threadCpuDelta(pid: number, before: Map<number, { comm: string; ms: number }>, after: Map<number, { comm: string; ms: number }>): Record<string, number> {
  const out: Record<string, number> = { main: 0, 'other threads': 0 }
  for (const [tid, a] of after) {
    const d = a.ms - (before.get(tid)?.ms ?? 0)
    if (d <= 0) continue
    const kind = tid === pid ? 'main' : a.comm === 'node' ? 'other threads' : a.comm
    out[kind] = (out[kind] ?? 0) + d
  }
  return out
}
