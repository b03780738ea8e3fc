/**
 * Concurrent `POST /api/v1/detect` requests, each waiting for its result, over keep-alive
 * connections (node:http: cheaper per request than fetch, so the client stays out of the way).
 */
import http from 'node:http'
import { ownCpuMs } from '../cpu.ts'
import { latencyOf } from '../stats.ts'
import { inWindow, windowFromNow } from '../window.ts'
import type { HttpCommand, LoadResult } from './protocol.ts'

function post(agent: http.Agent, url: URL, body: Uint8Array, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'image/jpeg', 'content-length': body.length, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

export async function runHttp(cmd: HttpCommand, onWindow: (win: { startAt: number; endAt: number }) => void): Promise<LoadResult> {
  const url = new URL(cmd.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: cmd.concurrency })
  const win = windowFromNow(cmd)
  onWindow(win)
  const latencies: number[] = []
  const stages: Record<string, number[]> = {}
  const refused: Record<string, number> = {}
  let next = 0
  let cpuStart = 0
  let cpuEnd = 0
  const timers = [setTimeout(() => (cpuStart = ownCpuMs()), win.startAt - Date.now()), setTimeout(() => (cpuEnd = ownCpuMs()), win.endAt - Date.now())]
  const client = async () => {
    while (Date.now() < win.endAt) {
      const body = cmd.images[next++ % cmd.images.length]!
      const t0 = performance.now()
      const res = await post(agent, url, body, cmd.token)
      const ms = performance.now() - t0
      if (!inWindow(Date.now(), win)) continue
      if (res.status !== 200) {
        const code = (JSON.parse(res.text) as { error?: { code?: string } }).error?.code ?? 'none'
        refused[`http_${res.status}:${code}`] = (refused[`http_${res.status}:${code}`] ?? 0) + 1
        continue
      }
      latencies.push(ms)
      const timings = (JSON.parse(res.text) as { timings?: Record<string, number> }).timings ?? {}
      for (const [k, v] of Object.entries(timings)) (stages[k] ??= []).push(v)
    }
  }
  try {
    await Promise.all(Array.from({ length: cmd.concurrency }, client))
  } finally {
    for (const t of timers) clearTimeout(t)
    agent.destroy()
  }
  if (cpuEnd === 0) cpuEnd = ownCpuMs()
  const completed = latencies.length
  return {
    fps: completed / cmd.seconds,
    completed,
    latency: latencyOf(latencies),
    stagesP50: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, latencyOf(v).p50])),
    refused,
    blocked: 0,
    clientCpuMsPerFrame: (cpuEnd - cpuStart) / completed,
  }
}
