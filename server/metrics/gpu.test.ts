import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import client from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { parseNvidiaSmi, startGpuMetrics, type GpuMetricsHandle } from './gpu.ts'

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/nvidia-smi/${name}`, import.meta.url), 'utf8')
const MiB = 1024 * 1024
const warnings: string[] = []
const log = { warn: (_o: object, msg: string) => void warnings.push(msg) }

describe('parseNvidiaSmi', () => {
  it('reads utilisation as a ratio and memory in bytes, one sample per GPU row', () => {
    const parsed = parseNvidiaSmi(fixture('nvidia-smi-2gpu.txt'))
    expect(parsed).toEqual({
      ok: true,
      gpus: [
        { gpu: '0', utilization: 0, memoryUsedBytes: 4 * MiB, memoryTotalBytes: 81559 * MiB },
        { gpu: '1', utilization: 0.87, memoryUsedBytes: 61237 * MiB, memoryTotalBytes: 81559 * MiB },
      ],
    })
  })

  it('leaves out a value the driver reports as [N/A] instead of reading it as zero', () => {
    const parsed = parseNvidiaSmi(fixture('nvidia-smi-mig.txt'))
    expect(parsed).toEqual({ ok: true, gpus: [{ gpu: '0', memoryUsedBytes: 12288 * MiB, memoryTotalBytes: 81559 * MiB }] })
  })

  it('refuses the driver-not-loaded message instead of inventing a GPU', () => {
    const parsed = parseNvidiaSmi(fixture('nvidia-smi-no-driver.txt'))
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.error.code).toBe('gpu_output_unreadable')
  })

  it('refuses a row with words where numbers belong', () => {
    expect(parseNvidiaSmi('12, lots, 81559\n').ok).toBe(false)
  })

  it('reads empty output (no GPU visible) as no GPUs', () => {
    expect(parseNvidiaSmi('\n')).toEqual({ ok: true, gpus: [] })
  })
})

describe('startGpuMetrics', () => {
  let handle: GpuMetricsHandle | undefined
  let dir: string | undefined
  afterEach(async () => {
    handle?.stop()
    handle = undefined
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  const gpuSeries = async (registry: client.Registry) => (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('linesight_gpu_'))

  it('registers nothing when nvidia-smi is not on the PATH', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-gpu-'))
    const registry = new client.Registry()
    handle = await startGpuMetrics({ registry, intervalMs: 1000, log, path: dir })
    expect(handle).toBeUndefined()
    expect(await gpuSeries(registry)).toEqual([])
    expect(await registry.metrics()).not.toContain('linesight_gpu_')
  })

  it('registers nothing when the interval is 0, even with nvidia-smi present', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-gpu-'))
    await writeScript(dir, 'nvidia-smi-2gpu.txt', 0)
    const registry = new client.Registry()
    handle = await startGpuMetrics({ registry, intervalMs: 0, log, path: dir })
    expect(handle).toBeUndefined()
    expect(await gpuSeries(registry)).toEqual([])
  })

  // nvidia-smi does not run on this machine: a script that prints the fixture stands in for it
  it('exports what nvidia-smi printed, per GPU', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-gpu-'))
    await writeScript(dir, 'nvidia-smi-2gpu.txt', 0)
    const registry = new client.Registry()
    handle = await startGpuMetrics({ registry, intervalMs: 60_000, log, path: dir })
    expect(handle?.binary).toBe(join(dir, 'nvidia-smi'))
    const text = await registry.metrics()
    expect(text).toContain('linesight_gpu_utilization_ratio{gpu="1"} 0.87')
    expect(text).toContain(`linesight_gpu_memory_total_bytes{gpu="0"} ${81559 * MiB}`)
    expect(text).toContain(`linesight_gpu_memory_used_bytes{gpu="1"} ${61237 * MiB}`)
  })

  it('empties the gauges and counts the error when a query fails, instead of keeping stale values', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ls-gpu-'))
    await writeScript(dir, 'nvidia-smi-2gpu.txt', 0)
    const registry = new client.Registry()
    handle = await startGpuMetrics({ registry, intervalMs: 60_000, log, path: dir })
    expect(await registry.metrics()).toContain('linesight_gpu_utilization_ratio{gpu="0"}')
    await writeScript(dir, 'nvidia-smi-no-driver.txt', 9)
    await handle!.poll()
    const text = await registry.metrics()
    expect(text).not.toMatch(/^linesight_gpu_utilization_ratio\{/m)
    expect(text).toContain('linesight_gpu_query_errors_total{code="gpu_query_failed"} 1')
    expect(warnings.some((w) => w.startsWith('GPU metrics unavailable'))).toBe(true)
  })
})

async function writeScript(dir: string, fixtureName: string, exitCode: number): Promise<void> {
  const path = join(dir, 'nvidia-smi')
  const text = fixture(fixtureName)
  await writeFile(path, `#!/bin/sh\ncat <<'EOF'\n${text}EOF\nexit ${exitCode}\n`)
  await chmod(path, 0o755)
}
