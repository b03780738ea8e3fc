/**
 * The binary frame envelope, versions 1 and 2. Little-endian:
 *
 *   0  u8   'L' (0x4c)          magic
 *   1  u8   'S' (0x53)
 *   2  u8   version             1, or 2 when the image was letterboxed from a larger camera frame
 *   3  u8   kind                1 = frame to inspect, 2 = image of a frame inferred in the browser
 *   4  u8   flags               bit 0 audit, bit 1 shadow, bit 2 part (a part id follows the mime)
 *   5  u8   reserved            = 0
 *   6  u16  headerLength        bytes before the image, including the strings below
 *   8  f64  capturedAt          ms since the epoch on the station's clock
 *  16  u16  width               of the image, pixels
 *  18  u16  height
 *  20  u32  payloadLength       image bytes after the header
 *  version 2 only (the fixed header is then 28 bytes, and the strings start at 28):
 *  24  u16  from.width          the camera frame the image was letterboxed from, pixels: results
 *  26  u16  from.height         are reported in it (shared/inference/letterbox.ts maps them back)
 *  24  u8 n + n bytes UTF-8     frameId  (an Id, see shared/domain/ids.ts)
 *      u8 n + n bytes UTF-8     line
 *      u8 n + n bytes UTF-8     station
 *      u8 n + n bytes ASCII     mime     (image/jpeg, image/png, image/webp)
 *      u8 n + n bytes ASCII     partId   (only with flag bit 2; see shared/domain/part-id.ts)
 *  headerLength: image bytes (payloadLength of them, and nothing after)
 *
 * A version-1 envelope is the camera frame itself; every server that speaks version 2 still reads 1,
 * so a station or an HTTP client that sends full frames keeps working.
 *
 * Decoding never throws: it returns `{ ok: false, error }` naming what was wrong, so a gateway can
 * answer the sender and keep the connection.
 */
import { ID_PATTERN } from '../domain/ids.ts'
import { PART_ID_PATTERN } from '../domain/part-id.ts'
import type { WireError } from './messages/error.ts'

export const ENVELOPE_VERSION = 2
export const FIXED_HEADER = 24
export const FIXED_HEADER_V2 = 28
export const IMAGE_MIME_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const
export type ImageMime = (typeof IMAGE_MIME_TYPES)[number]

export const EnvelopeKind = { frame: 1, resultImage: 2, evidence: 3 } as const
export type EnvelopeKind = keyof typeof EnvelopeKind
const KIND_BY_CODE: Record<number, EnvelopeKind> = { 1: 'frame', 2: 'resultImage', 3: 'evidence' }

export interface FrameEnvelope {
  kind: EnvelopeKind
  frameId: string
  line: string
  station: string
  capturedAt: number
  mime: ImageMime
  width: number
  height: number
  audit: boolean
  shadow: boolean
  /**
   * The image is the camera frame letterboxed into width x height (the serving model's input):
   * this is the frame's own size. Absent: the image is the camera frame.
   */
  from?: { width: number; height: number }
  /** The part this frame is a view of (trigger burst or presence passage). */
  partId?: string
  /** A view into the decoded buffer: copy it before the buffer is reused. */
  payload: Uint8Array
}

export type DecodeResult = { ok: true; envelope: FrameEnvelope } | { ok: false; error: WireError }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeEnvelope(e: Omit<FrameEnvelope, 'payload'> & { payload: Uint8Array }): Uint8Array {
  const names = ['frameId', 'line', 'station', 'mime', ...(e.partId === undefined ? [] : ['partId'])]
  const strings = [e.frameId, e.line, e.station, e.mime, ...(e.partId === undefined ? [] : [e.partId])].map((s) => encoder.encode(s))
  for (const [i, s] of strings.entries()) {
    if (s.length === 0 || s.length > 255) throw new RangeError(`envelope field ${names[i]} must be 1-255 bytes`)
  }
  const fixed = e.from ? FIXED_HEADER_V2 : FIXED_HEADER
  const headerLength = fixed + strings.reduce((n, s) => n + 1 + s.length, 0)
  const out = new Uint8Array(headerLength + e.payload.length)
  const view = new DataView(out.buffer)
  out[0] = 0x4c
  out[1] = 0x53
  out[2] = e.from ? 2 : 1
  out[3] = EnvelopeKind[e.kind]
  out[4] = (e.audit ? 1 : 0) | (e.shadow ? 2 : 0) | (e.partId === undefined ? 0 : 4)
  view.setUint16(6, headerLength, true)
  view.setFloat64(8, e.capturedAt, true)
  view.setUint16(16, e.width, true)
  view.setUint16(18, e.height, true)
  view.setUint32(20, e.payload.length, true)
  if (e.from) {
    view.setUint16(24, e.from.width, true)
    view.setUint16(26, e.from.height, true)
  }
  let o = fixed
  for (const s of strings) {
    out[o++] = s.length
    out.set(s, o)
    o += s.length
  }
  out.set(e.payload, headerLength)
  return out
}

export interface DecodeLimits {
  /** Largest image accepted, bytes. */
  maxPayloadBytes: number
}

function bad(code: string, message: string): DecodeResult {
  return { ok: false, error: { code, message } }
}

export function decodeEnvelope(bytes: Uint8Array, limits: DecodeLimits): DecodeResult {
  if (bytes.length < FIXED_HEADER) return bad('short_header', `envelope is ${bytes.length} bytes, shorter than the ${FIXED_HEADER}-byte header`)
  if (bytes[0] !== 0x4c || bytes[1] !== 0x53) return bad('bad_magic', 'envelope does not start with "LS"')
  const version = bytes[2]
  if (version !== 1 && version !== 2) return bad('unknown_version', `envelope version ${version} is not supported (this server speaks 1 and ${ENVELOPE_VERSION})`)
  const fixed = version === 2 ? FIXED_HEADER_V2 : FIXED_HEADER
  if (bytes.length < fixed) return bad('short_header', `envelope is ${bytes.length} bytes, shorter than the ${fixed}-byte header`)
  const kind = KIND_BY_CODE[bytes[3]!]
  if (!kind) return bad('unknown_kind', `envelope kind ${bytes[3]} is unknown`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const flags = bytes[4]!
  const headerLength = view.getUint16(6, true)
  const capturedAt = view.getFloat64(8, true)
  const width = view.getUint16(16, true)
  const height = view.getUint16(18, true)
  const payloadLength = view.getUint32(20, true)
  if (headerLength < fixed + 8 || headerLength > bytes.length) {
    return bad('bad_header_length', `header length ${headerLength} does not fit a ${bytes.length}-byte envelope`)
  }
  if (payloadLength > limits.maxPayloadBytes) {
    return bad('too_large', `image of ${payloadLength} bytes exceeds the limit of ${limits.maxPayloadBytes}`)
  }
  if (headerLength + payloadLength !== bytes.length) {
    return bad('length_mismatch', `header (${headerLength}) + payload (${payloadLength}) != envelope length ${bytes.length}`)
  }
  if (!Number.isFinite(capturedAt)) return bad('bad_field', 'capturedAt is not a finite number')
  const fields: string[] = []
  let from: FrameEnvelope['from']
  if (version === 2) {
    from = { width: view.getUint16(24, true), height: view.getUint16(26, true) }
    if (!(from.width > 0 && from.height > 0 && width > 0 && height > 0)) return bad('bad_field', `a letterboxed frame needs both sizes, got ${from.width}x${from.height} into ${width}x${height}`)
  }
  let o = fixed
  for (const name of ['frameId', 'line', 'station', 'mime', ...(flags & 4 ? ['partId'] : [])]) {
    if (o >= headerLength) return bad('short_header', `header ends before field ${name}`)
    const n = bytes[o++]!
    if (n === 0 || o + n > headerLength) return bad('bad_field', `field ${name} of ${n} bytes does not fit the header`)
    let s: string
    try {
      s = decoder.decode(bytes.subarray(o, o + n))
    } catch {
      return bad('bad_field', `field ${name} is not valid UTF-8`)
    }
    o += n
    fields.push(s)
  }
  if (o !== headerLength) return bad('bad_header_length', `header length ${headerLength} disagrees with its fields (${o} bytes)`)
  const [frameId, line, station, mime, partId] = fields as [string, string, string, string, string | undefined]
  for (const [name, value] of [['frameId', frameId], ['line', line], ['station', station]] as const) {
    if (!ID_PATTERN.test(value)) return bad('bad_field', `${name} "${value.slice(0, 70)}" is not a valid id`)
  }
  if (!(IMAGE_MIME_TYPES as readonly string[]).includes(mime)) {
    return bad('unsupported_type', `image type "${mime.slice(0, 70)}" is not one of ${IMAGE_MIME_TYPES.join(', ')}`)
  }
  if (partId !== undefined && !PART_ID_PATTERN.test(partId)) return bad('bad_field', `partId "${partId.slice(0, 70)}" is not a valid part id`)
  if (payloadLength === 0) return bad('empty', 'envelope carries no image')
  return {
    ok: true,
    envelope: {
      kind,
      frameId,
      line,
      station,
      capturedAt,
      mime: mime as ImageMime,
      width,
      height,
      audit: (flags & 1) !== 0,
      shadow: (flags & 2) !== 0,
      ...(from ? { from } : {}),
      ...(partId === undefined ? {} : { partId }),
      payload: bytes.subarray(headerLength),
    },
  }
}
