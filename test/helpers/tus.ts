/**
 * Talking tus to a running linesight in tests: the stock client (tus-js-client, as stations
 * use it) for the happy paths, and plain requests for everything a stock client would never
 * send.
 */
import { request } from 'node:http'
import { Upload, type UploadOptions } from 'tus-js-client'
import { authHeaders } from './server.ts'
import { waitFor } from './wait.ts'
import type { JobView } from '../../server/api/jobs.ts'

export const TUS = { 'tus-resumable': '1.0.0' }

export const bearer = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {})

export function encodeMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',')
}

/**
 * The given token, or else the admin token of a server this test process started (auth is on by
 * default); `bearer` alone sends nothing without a token, for tests of anonymous callers.
 */
const auth = (url: string, token?: string): Record<string, string> => (token ? bearer(token) : authHeaders(url))

/** Starts a tus-js-client upload; `done` settles with its outcome. */
export function startTus(data: Buffer, options: UploadOptions): { upload: Upload; done: Promise<void> } {
  let upload!: Upload
  const done = new Promise<void>((resolve, reject) => {
    upload = new Upload(data, {
      ...options,
      headers: { ...((options.endpoint ?? options.uploadUrl) ? authHeaders((options.endpoint ?? options.uploadUrl)!) : {}), ...options.headers },
      onSuccess: (payload) => {
        options.onSuccess?.(payload)
        resolve()
      },
      onError: (err) => {
        options.onError?.(err)
        reject(err)
      },
    })
  })
  upload.start()
  return { upload, done }
}

/** Uploads with tus-js-client and returns the upload (= job) id. */
export async function tusUpload(base: string, data: Buffer, metadata: Record<string, string>, token?: string): Promise<string> {
  const { upload, done } = startTus(data, { endpoint: `${base}/api/v1/uploads`, metadata, headers: auth(base, token), retryDelays: [0, 100, 300] })
  await done
  return upload.url!.split('/').pop()!
}

export async function createUpload(base: string, length: number, metadata: Record<string, string>, token?: string): Promise<Response> {
  return fetch(`${base}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, ...auth(base, token), 'upload-length': String(length), 'upload-metadata': encodeMetadata(metadata) } })
}

/** Creates an upload and returns its URL (absolute). */
export async function newUpload(base: string, length: number, metadata: Record<string, string>, token?: string): Promise<string> {
  const res = await createUpload(base, length, metadata, token)
  if (res.status !== 201) throw new Error(`creating an upload answered ${res.status}: ${await res.text()}`)
  return base + res.headers.get('location')!
}

export function patchUpload(url: string, offset: number, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'PATCH', headers: { ...TUS, ...authHeaders(url), 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...headers }, body: body as BodyInit })
}

export function headUpload(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: { ...TUS, ...authHeaders(url), ...headers } })
}

export async function waitForJob(base: string, id: string, token?: string, timeoutMs = 120_000): Promise<JobView & { results: { items: { frameId: string }[] } }> {
  return waitFor(
    async () => {
      const res = await fetch(`${base}/api/v1/jobs/${id}`, { headers: auth(base, token) })
      if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status} ${await res.text()}`)
      const job = (await res.json()) as JobView & { results: { items: { frameId: string }[] } }
      return job.status === 'done' || job.status === 'failed' ? job : undefined
    },
    { timeoutMs, what: `job ${id} to finish` },
  )
}

export interface RawReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * A request exactly as given: the path is not normalised (`/../` stays), and the body may be
 * sent without a length (chunked). The reply is read even when the server closes early.
 */
export function rawRequest(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: Uint8Array; chunked?: boolean } = {}): Promise<RawReply> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...authHeaders(base), ...opts.headers, ...(opts.body && !opts.chunked ? { 'content-length': String(opts.body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    // a server that answers before reading the whole body may close while we still write
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err)
    })
    if (opts.body && opts.chunked) {
      const half = Math.floor(opts.body.length / 2)
      req.write(opts.body.subarray(0, half))
      req.end(opts.body.subarray(half))
    } else req.end(opts.body)
  })
}
