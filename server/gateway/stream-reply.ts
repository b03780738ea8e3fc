/**
 * Writes a reply whose body is a stream (a dataset zip): chunk by chunk, pulling the next chunk
 * only once uWS has taken the last one, so a slow client slows the producer instead of filling
 * memory. uWS rules: every write after an await is corked; `write` returning false means uWS
 * buffered the chunk and wants `onWritable` before the next.
 */
import type { HttpResponse } from 'uWebSockets.js'
import type { Reply } from '../api/types.ts'
import { statusLine } from './http.ts'

export async function writeStream(res: HttpResponse, reply: Reply & { stream: AsyncIterable<Uint8Array> }, extra: Record<string, string>, signal: AbortSignal): Promise<void> {
  const chunks = reply.stream[Symbol.asyncIterator]()
  res.cork(() => {
    res.writeStatus(statusLine(reply.status))
    for (const [k, v] of Object.entries(extra)) res.writeHeader(k, v)
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v)
  })
  let finished = false
  try {
    for (;;) {
      const next = await chunks.next()
      if (signal.aborted) return
      if (next.done) break
      let accepted = true
      res.cork(() => {
        accepted = res.write(next.value)
      })
      if (!accepted) {
        await new Promise<void>((resolve) => {
          res.onWritable(() => {
            resolve()
            return true
          })
          signal.addEventListener('abort', () => resolve(), { once: true })
        })
        if (signal.aborted) return
      }
    }
    finished = true
    res.cork(() => res.end())
  } catch (err) {
    // the status line went out long ago: cutting the connection is the only way left to say the
    // body is incomplete (a chunked body without its last chunk is never taken as whole)
    if (!signal.aborted) res.close()
    throw err
  } finally {
    if (!finished) await chunks.return?.()
  }
}
