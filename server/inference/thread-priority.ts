/**
 * The CPU priority of the calling thread, for background inference (candidate models in shadow).
 *
 * On Linux a thread's nice value is its own: setpriority(PRIO_PROCESS, tid) changes that thread
 * only, and threads it creates afterwards (onnxruntime's intra-op pool) start with its value. So a
 * worker thread that lowers its own priority before it creates any onnxruntime session gives the
 * cores to the process's other threads whenever they want them. Node's os.setPriority takes a
 * pid; given a thread id it reaches that one thread. Elsewhere the call would renice the whole
 * process, so nothing is done and the reason is reported.
 */
import { readlinkSync } from 'node:fs'
import os from 'node:os'

/** The lowest priority a thread can have; lowering needs no privilege. */
export const LOWEST_PRIORITY = 19

export type ThreadPriority = { tid: number; nice: number } | { error: string }

/** This thread's kernel id (Linux); undefined where /proc has no thread-self. */
export function ownThreadId(): number | undefined {
  try {
    // `/proc/thread-self` links to `/proc/<pid>/task/<tid>`
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : undefined
  } catch {
    return undefined
  }
}

/** Lowers the calling thread's priority to `nice` (never raises it), and says what it got. */
export function lowerOwnPriority(nice: number = LOWEST_PRIORITY): ThreadPriority {
  if (process.platform !== 'linux') return { error: `thread priorities are per thread on Linux only (this is ${process.platform}); the thread runs at normal priority` }
  const tid = ownThreadId()
  if (tid === undefined) return { error: 'no /proc/thread-self: the thread runs at normal priority' }
  try {
    if (os.getPriority(tid) < nice) os.setPriority(tid, nice)
    return { tid, nice: os.getPriority(tid) }
  } catch (e) {
    return { error: `setpriority(${tid}, ${nice}) failed: ${(e as Error).message}` }
  }
}
