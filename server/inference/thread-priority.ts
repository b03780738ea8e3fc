/**
 * The CPU priority of the calling thread, for background inference (candidate models in shadow).
 *
 * On Linux a thread's nice value and scheduling policy are its own: setpriority(PRIO_PROCESS, tid)
 * and sched_setscheduler(tid) change that thread only, and threads it creates afterwards
 * (onnxruntime's intra-op pool) start with its values. So a worker thread that lowers its own
 * priority before it creates any onnxruntime session gives the cores to the process's other
 * threads whenever they want them. Node's os.setPriority takes a pid; given a thread id it reaches
 * that one thread. Elsewhere it would renice the whole process, so nothing is done and the reason
 * is reported.
 *
 * Nice 19 alone is not enough: measured with `npm run bench:candidate-priority` (bench/FINDINGS.md),
 * a nice-19 candidate still put the current model's p99 at about 1.9x, because a waking nice-0
 * thread does not always preempt it at once. SCHED_IDLE is preempted by any normal thread that
 * wakes (p50 0.96x, p99 1.1x). Node has no call for it, so util-linux's `chrt` sets it (lowering
 * needs no privilege); without `chrt` the thread keeps nice 19 and the reason is reported.
 */
import { execFileSync } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import os from 'node:os'

/** The lowest nice value a thread can have; lowering needs no privilege. */
export const LOWEST_PRIORITY = 19

export type ThreadPriority = { tid: number; nice: number; policy: 'idle' | 'normal'; note?: string } | { error: string }

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
  } catch (e) {
    return { error: `setpriority(${tid}, ${nice}) failed: ${(e as Error).message}` }
  }
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 10_000 })
    return { tid, nice: os.getPriority(tid), policy: 'idle' }
  } catch (e) {
    return { tid, nice: os.getPriority(tid), policy: 'normal', note: `chrt --idle failed (${(e as Error).message.split('\n')[0]}): nice ${nice} only` }
  }
}
