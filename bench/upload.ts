/**
 * Upload throughput through the real server: a fresh linesight process (test/helpers/server.ts),
 * the stock tus-js-client in Node, one upload of random bytes per run (the job it becomes is
 * refused as not an image, which costs nothing). Prints MB/s per run and the server's peak
 * resident memory before and after, to show the body streams to disk instead of filling memory.
 * Prints numbers, asserts nothing.
 *
 *   npx tsx bench/upload.ts [MB] [runs] [chunkMB]
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { startServer } from '../test/helpers/server.ts'
import { startTus } from '../test/helpers/tus.ts'

const mb = Number(process.argv[2] ?? 50)
const runs = Number(process.argv[3] ?? 5)
const chunkMb = Number(process.argv[4] ?? 0)
const MiB = 1024 * 1024

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024)
}

const server = await startServer({ env: { UPLOAD_MAX_BYTES: String((mb + 1) * MiB) } })
try {
  const data = randomBytes(mb * MiB)
  const before = await peakRssMb(server.proc.pid!)
  const rates: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const { done } = startTus(data, { endpoint: `${server.url}/api/v1/uploads`, metadata: { line: 'bench' }, ...(chunkMb ? { chunkSize: chunkMb * MiB } : {}) })
    await done
    const s = (performance.now() - t0) / 1000
    rates.push(mb / s)
    console.log(`run ${i + 1}: ${mb} MB in ${s.toFixed(2)} s = ${(mb / s).toFixed(1)} MB/s`)
  }
  const sorted = [...rates].sort((a, b) => a - b)
  console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} MB/s, best ${sorted.at(-1)!.toFixed(1)} MB/s`)
  console.log(`server peak RSS: ${before} MB before, ${await peakRssMb(server.proc.pid!)} MB after ${runs} uploads of ${mb} MB`)
} finally {
  await server.stop()
}
