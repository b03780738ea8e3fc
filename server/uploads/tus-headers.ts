/**
 * The tus 1.0 request headers (https://tus.io/protocols/resumable-upload), parsed strictly:
 * whatever a client sends here is bounded, and a malformed value is a 400 with the header named,
 * never a guess.
 */
import { HttpError, badRequest } from '../errors.ts'

export const TUS_VERSION = '1.0.0'
export const TUS_EXTENSIONS = ['creation', 'expiration', 'checksum', 'termination'] as const
export const TUS_CHECKSUM_ALGORITHMS = ['sha256'] as const

/** Headers a browser may read from tus replies (CORS hides every other one). */
export const TUS_EXPOSED_HEADERS = 'location, upload-offset, upload-length, upload-metadata, upload-expires, tus-resumable, tus-version, tus-extension, tus-max-size, tus-checksum-algorithm'

const MAX_METADATA_CHARS = 8 * 1024
const MAX_METADATA_PAIRS = 32
const MAX_METADATA_VALUE_BYTES = 1024
/** Keys are ASCII without spaces and commas (the spec's rule), kept short. */
const METADATA_KEY = /^[!-+\--~]{1,64}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Every tus request but OPTIONS names the protocol version it speaks. */
export function checkTusResumable(headers: Readonly<Record<string, string>>): void {
  const v = headers['tus-resumable']
  if (v !== TUS_VERSION) {
    throw new HttpError(412, 'unsupported_version', `Tus-Resumable must be ${TUS_VERSION}, got ${v === undefined ? '(none)' : JSON.stringify(v.slice(0, 20))}`, {
      headers: { 'tus-version': TUS_VERSION },
    })
  }
}

/** A non-negative integer header (Upload-Length, Upload-Offset). */
export function parseCount(value: string | undefined, name: string): number {
  if (value === undefined) throw badRequest(`${name} is required`, `missing_${name.toLowerCase().replace(/-/g, '_')}`)
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(value.slice(0, 30))}`, `bad_${name.toLowerCase().replace(/-/g, '_')}`)
  }
  return Number(value)
}

/**
 * `Upload-Metadata: key base64value,key2 base64value2,flag`: decoded to UTF-8 strings (a key
 * without a value decodes to ''). Duplicate keys, bad base64 or oversized values are refused.
 */
export function parseMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  if (header === undefined || header.trim() === '') return out
  if (header.length > MAX_METADATA_CHARS) throw badRequest(`Upload-Metadata is longer than ${MAX_METADATA_CHARS} characters`, 'bad_metadata')
  const pairs = header.split(',')
  if (pairs.length > MAX_METADATA_PAIRS) throw badRequest(`Upload-Metadata has more than ${MAX_METADATA_PAIRS} pairs`, 'bad_metadata')
  for (const pair of pairs) {
    const parts = pair.trim().split(' ')
    const [key, value = '', ...rest] = parts
    if (!key || !METADATA_KEY.test(key) || rest.length) throw badRequest(`Upload-Metadata pair ${JSON.stringify(pair.slice(0, 80))} is not "key base64value"`, 'bad_metadata')
    if (key in out) throw badRequest(`Upload-Metadata repeats the key ${key}`, 'bad_metadata')
    if (!BASE64.test(value)) throw badRequest(`Upload-Metadata value of ${key} is not base64`, 'bad_metadata')
    const bytes = Buffer.from(value, 'base64')
    if (bytes.length > MAX_METADATA_VALUE_BYTES) throw badRequest(`Upload-Metadata value of ${key} is over ${MAX_METADATA_VALUE_BYTES} bytes`, 'bad_metadata')
    const text = new TextDecoder('utf-8', { fatal: true })
    try {
      out[key] = text.decode(bytes)
    } catch {
      throw badRequest(`Upload-Metadata value of ${key} is not UTF-8`, 'bad_metadata')
    }
  }
  return out
}

export interface Checksum {
  algorithm: (typeof TUS_CHECKSUM_ALGORITHMS)[number]
  digest: Buffer
}

/** `Upload-Checksum: sha256 <base64 digest>`; an algorithm we do not offer is a 400 (spec). */
export function parseChecksum(header: string | undefined): Checksum | undefined {
  if (header === undefined) return undefined
  const m = /^([A-Za-z0-9-]{1,20}) ([A-Za-z0-9+/=]{1,200})$/.exec(header.trim())
  if (!m) throw badRequest('Upload-Checksum must be "<algorithm> <base64 digest>"', 'bad_checksum')
  const algorithm = m[1]!.toLowerCase()
  if (algorithm !== 'sha256') throw badRequest(`checksum algorithm ${JSON.stringify(algorithm)} is not supported (Tus-Checksum-Algorithm: sha256)`, 'unsupported_checksum')
  const digest = Buffer.from(m[2]!, 'base64')
  if (digest.length !== 32 || !BASE64.test(m[2]!)) throw badRequest('a sha256 Upload-Checksum is 32 bytes in base64', 'bad_checksum')
  return { algorithm, digest }
}

/** RFC 9110 IMF-fixdate, as Upload-Expires wants it. */
export const httpDate = (ms: number) => new Date(ms).toUTCString()

/** A filename from metadata is a label only: shortened, without control characters or folders. */
export function labelOf(name: string | undefined): string | undefined {
  if (name === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  const base = name.replace(/[\u0000-\u001f\u007f]/g, '').split(/[\\/]/).pop()!.trim()
  return base ? base.slice(0, 200) : undefined
}
