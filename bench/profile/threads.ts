/**
 * CPU-profiles the main thread and every worker thread of another Node process at once, for the
 * window of one run: the main thread through its inspector session, each worker through the
 * inspector's NodeWorker domain (a session per worker, tunnelled over the main one). V8's sampling
 * profiler: native code a thread runs (onnxruntime, libvips called synchronously) shows as
 * `(program)`.
 */
import WebSocket from 'ws'
import type { CpuProfile } from './inspector.ts'

interface Message {
  id?: number
  method?: string
  params?: { sessionId?: string; message?: string; workerInfo?: { title: string; url: string } }
  result?: unknown
  error?: { message: string }
}

type Reply = { resolve: (v: unknown) => void; reject: (e: Error) => void }

export async function profileThreads<T>(inspectorUrl: string, during: () => Promise<T>, samplingIntervalUs = 250): Promise<{ result: T; profiles: { thread: string; profile: CpuProfile }[] }> {
  const socket = new WebSocket(inspectorUrl, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 })
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  let next = 0
  const pending = new Map<string, Reply>() // `${sessionId}:${id}`, '' for the main thread
  const workers = new Map<string, string>() // sessionId -> title
  const settle = (key: string, m: Message) => {
    const p = pending.get(key)
    pending.delete(key)
    if (m.error) p?.reject(new Error(`inspector: ${m.error.message}`))
    else p?.resolve(m.result)
  }
  socket.on('message', (data) => {
    const m = JSON.parse(String(data as Buffer)) as Message
    if (m.id !== undefined) return settle(`:${m.id}`, m)
    if (m.method === 'NodeWorker.attachedToWorker' && m.params?.sessionId) workers.set(m.params.sessionId, m.params.workerInfo?.title ?? m.params.sessionId)
    if (m.method === 'NodeWorker.receivedMessageFromWorker' && m.params?.sessionId && m.params.message) {
      const inner = JSON.parse(m.params.message) as Message
      if (inner.id !== undefined) settle(`${m.params.sessionId}:${inner.id}`, inner)
    }
  })
  const post = <R>(method: string, params: object = {}, sessionId?: string): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const id = ++next
      pending.set(`${sessionId ?? ''}:${id}`, { resolve: resolve as (v: unknown) => void, reject })
      if (sessionId === undefined) socket.send(JSON.stringify({ id, method, params }))
      else socket.send(JSON.stringify({ id: ++next, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: JSON.stringify({ id, method, params }) } }))
    })
  try {
    // attachedToWorker arrives for each running worker before enable's reply
    await post('NodeWorker.enable', { waitForDebuggerOnStart: false })
    const sessions: (string | undefined)[] = [undefined, ...workers.keys()]
    for (const s of sessions) {
      await post('Profiler.enable', {}, s)
      await post('Profiler.setSamplingInterval', { interval: samplingIntervalUs }, s)
    }
    await Promise.all(sessions.map((s) => post('Profiler.start', {}, s)))
    const result = await during()
    const stopped = await Promise.all(sessions.map((s) => post<{ profile: CpuProfile }>('Profiler.stop', {}, s)))
    return { result, profiles: stopped.map((r, i) => ({ thread: sessions[i] === undefined ? 'main' : `${workers.get(sessions[i])} (${sessions[i]})`, profile: r.profile })) }
  } finally {
    socket.close()
  }
}
