/**
 * GPU utilisation and memory, read from `nvidia-smi` every GPU_METRICS_INTERVAL_MS.
 *
 * Where the binary is not installed nothing is registered: a CPU host exports no GPU series at
 * all, rather than zeros a dashboard would read as "idle GPU". When a query fails the gauges are
 * emptied, so a scrape never shows a value older than one interval.
 */
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import client, { type Registry } from 'prom-client'

/** The one query we run; its columns are what `parseNvidiaSmi` reads. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'] as const

const MiB = 1024 * 1024

export interface GpuSample {
  /** Row number in nvidia-smi's output, which lists GPUs in index order. */
  gpu: string
  /** 0..1; absent where the GPU does not report it (MIG instances, some vGPUs). */
  utilization?: number
  memoryUsedBytes?: number
  memoryTotalBytes?: number
}

export type GpuErrorCode = 'gpu_output_unreadable' | 'gpu_query_failed'
export interface GpuError {
  code: GpuErrorCode
  message: string
}

export type GpuParse = { ok: true; gpus: GpuSample[] } | { ok: false; error: GpuError }

/** `[N/A]`, `[Not Supported]` and friends: the driver has no value, which is not zero. */
function field(raw: string, scale: number): number | undefined | null {
  const v = raw.trim()
  if (/^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU requires reset)\]?$/i.test(v)) return undefined
  if (!/^\d+(\.\d+)?$/.test(v)) return null
  return Number(v) * scale
}

/** Parses the output of `nvidia-smi` with `NVIDIA_SMI_ARGS`. */
export function parseNvidiaSmi(text: string): GpuParse {
  const gpus: GpuSample[] = []
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  for (const [i, row] of rows.entries()) {
    const cols = row.split(',')
    if (cols.length !== 3) return { ok: false, error: { code: 'gpu_output_unreadable', message: `line ${i + 1} has ${cols.length} columns, expected 3: ${row.slice(0, 120)}` } }
    const [util, used, total] = [field(cols[0]!, 0.01), field(cols[1]!, MiB), field(cols[2]!, MiB)]
    if (util === null || used === null || total === null) return { ok: false, error: { code: 'gpu_output_unreadable', message: `line ${i + 1} is not numbers: ${row.slice(0, 120)}` } }
    const sample: GpuSample = { gpu: String(i) }
    if (util !== undefined) sample.utilization = util
    if (used !== undefined) sample.memoryUsedBytes = used
    if (total !== undefined) sample.memoryTotalBytes = total
    gpus.push(sample)
  }
  return { ok: true, gpus }
}

/** The GPU metrics, registered on `registry`. Also used by the reference generator. */
export function registerGpuMetrics(registry: Registry) {
  const r = [registry]
  return {
    utilization: new client.Gauge({ name: 'linesight_gpu_utilization_ratio', help: 'GPU busy time over nvidia-smi\'s last sample period (0-1), by GPU index.', labelNames: ['gpu'] as const, registers: r }),
    memoryUsed: new client.Gauge({ name: 'linesight_gpu_memory_used_bytes', help: 'GPU memory in use, by GPU index.', labelNames: ['gpu'] as const, registers: r }),
    memoryTotal: new client.Gauge({ name: 'linesight_gpu_memory_total_bytes', help: 'GPU memory installed, by GPU index.', labelNames: ['gpu'] as const, registers: r }),
    queryErrors: new client.Counter({ name: 'linesight_gpu_query_errors_total', help: 'nvidia-smi queries that failed or printed something unreadable (the GPU gauges are empty until the next good one).', labelNames: ['code'] as const, registers: r }),
  }
}

export type GpuMetrics = ReturnType<typeof registerGpuMetrics>

/** The executable's path, or undefined when it is not installed (PATH lookup as a shell does). */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, name))
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK)
      return c
    } catch {
      // not in this folder (or not executable): try the next one
    }
  }
  return undefined
}

export interface GpuMetricsOptions {
  registry: Registry
  /** GPU_METRICS_INTERVAL_MS; 0 starts nothing. */
  intervalMs: number
  log: { warn(obj: object, msg: string): void }
  /** `nvidia-smi`, looked up on PATH, unless a path is given. */
  binary?: string
  /** PATH to search; the process's own by default. */
  path?: string
}

export interface GpuMetricsHandle {
  metrics: GpuMetrics
  binary: string
  /** One query now; resolves once the gauges hold its values (or were emptied). */
  poll(): Promise<void>
  stop(): void
}

function runNvidiaSmi(binary: string, timeoutMs: number): Promise<GpuParse> {
  return new Promise((resolve) => {
    execFile(binary, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) resolve({ ok: false, error: { code: 'gpu_query_failed', message: `${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().slice(0, 200)}` : ''}` } })
      else resolve(parseNvidiaSmi(stdout))
    })
  })
}

/**
 * Starts polling when `nvidia-smi` exists; resolves to undefined (and registers nothing) when it
 * does not or when `intervalMs` is 0. The lead's composition root calls this once per process.
 */
export async function startGpuMetrics(opts: GpuMetricsOptions): Promise<GpuMetricsHandle | undefined> {
  if (opts.intervalMs <= 0) return undefined
  const binary = await findExecutable(opts.binary ?? 'nvidia-smi', opts.path)
  if (!binary) return undefined
  const metrics = registerGpuMetrics(opts.registry)
  // a hung driver call must not pile up queries
  const timeoutMs = Math.min(opts.intervalMs, 5000)
  let running: Promise<void> | undefined

  const poll = (): Promise<void> => {
    running ??= runNvidiaSmi(binary, timeoutMs)
      .then((parsed) => {
        for (const g of [metrics.utilization, metrics.memoryUsed, metrics.memoryTotal]) g.reset()
        if (!parsed.ok) {
          metrics.queryErrors.inc({ code: parsed.error.code })
          opts.log.warn({ code: parsed.error.code, binary }, `GPU metrics unavailable: ${parsed.error.message}`)
          return
        }
        for (const s of parsed.gpus) {
          if (s.utilization !== undefined) metrics.utilization.set({ gpu: s.gpu }, s.utilization)
          if (s.memoryUsedBytes !== undefined) metrics.memoryUsed.set({ gpu: s.gpu }, s.memoryUsedBytes)
          if (s.memoryTotalBytes !== undefined) metrics.memoryTotal.set({ gpu: s.gpu }, s.memoryTotalBytes)
        }
      })
      .finally(() => {
        running = undefined
      })
    return running
  }

  await poll()
  const timer = setInterval(() => {
    poll().catch((err: unknown) => opts.log.warn({ err: String(err), binary }, 'GPU metrics poll failed'))
  }, opts.intervalMs)
  timer.unref()
  return { metrics, binary, poll, stop: () => clearInterval(timer) }
}
