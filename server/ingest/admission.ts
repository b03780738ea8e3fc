/**
 * Whether a station's binary message may go on, decided without a socket: the checks run in the
 * order the protocol promises (decodable, hello first, this socket's station, then per kind) and
 * the first that fails names the refusal. An evidence envelope (a frame's full-resolution original)
 * is taken only when the session asked for it. server/ingest/station-session.ts sends what this returns;
 * admission.test.ts calls it with plain values, one test per refusal reason.
 */
import { decodeEnvelope, type FrameEnvelope } from '../../shared/protocol/envelope.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'

/** How a refusal reaches the station: a protocol `error` (nothing to ack) or an ack of the frame. */
export interface Refusal {
  reply: 'error' | 'rejected' | 'busy'
  error: WireError
  frameId?: string
  /** The `frames_dropped_total` reason it counts under; absent where it is not counted. */
  dropped?: string
  /** A refused evidence envelope (counted under `linesight_evidence_total`, outcome `refused`). */
  evidence?: true
}

export interface AdmissionLimits {
  maxFrameBytes: number
  maxPixels: number
  /** Frames a station may have in flight. */
  credit: number
}

/** What the session knows when a message arrives. */
export interface StationState {
  /** The line and station this socket said hello as; undefined before hello. */
  hello: { line: string; station: string } | undefined
  /** Frames sent and not answered yet, by id. */
  inFlight: ReadonlyMap<string, unknown>
  /** Browser results waiting for their JPEG, by frame id. */
  pendingImages: ReadonlyMap<string, unknown>
  /** Originals this server asked for (evidence on demand), by frame id, with the camera size each must have. */
  pendingEvidence?: ReadonlyMap<string, { width: number; height: number }>
}

export type Admitted = { ok: true; kind: FrameEnvelope['kind']; envelope: FrameEnvelope } | { ok: false; refusal: Refusal }

const rejected = (frameId: string, error: WireError): Refusal => ({ reply: 'rejected', frameId, error, dropped: error.code })

/** A binary message: a frame to infer, or the JPEG of a browser result sent just before. */
export function admitBinary(bytes: Uint8Array, limits: AdmissionLimits, state: StationState): Admitted {
  const decoded = decodeEnvelope(bytes, { maxPayloadBytes: limits.maxFrameBytes })
  if (!decoded.ok) {
    return { ok: false, refusal: { reply: 'error', error: decoded.error, dropped: decoded.error.code === 'too_large' ? 'too_large' : 'malformed' } }
  }
  const env = decoded.envelope
  const refusal = refuseEnvelope(env, limits, state)
  return refusal ? { ok: false, refusal } : { ok: true, kind: env.kind, envelope: env }
}

function refuseEnvelope(env: FrameEnvelope, limits: AdmissionLimits, state: StationState): Refusal | undefined {
  const { hello } = state
  if (!hello) return { reply: 'error', frameId: env.frameId, error: { code: 'hello_first', message: 'send hello before frames' } }
  if (env.line !== hello.line || env.station !== hello.station) {
    return rejected(env.frameId, { code: 'wrong_station', message: `frame is for ${env.line}/${env.station}, this socket said hello as ${hello.line}/${hello.station}` })
  }
  if (env.kind === 'resultImage') {
    return state.pendingImages.has(env.frameId) ? undefined : rejected(env.frameId, { code: 'unexpected_image', message: 'no browser result is waiting for this image' })
  }
  if (env.kind === 'evidence') return refuseEvidence(env, limits, state)
  if (env.width * env.height > limits.maxPixels) {
    return rejected(env.frameId, { code: 'too_large', message: `${env.width}x${env.height} exceeds ${limits.maxPixels} pixels` })
  }
  if (env.from && (env.from.width < env.width || env.from.height < env.height)) {
    return rejected(env.frameId, { code: 'bad_field', message: `a ${env.width}x${env.height} image cannot have been resized down from ${env.from.width}x${env.from.height}` })
  }
  if (state.inFlight.has(env.frameId)) return rejected(env.frameId, { code: 'duplicate', message: 'this frame id is already in flight' })
  if (state.inFlight.size >= limits.credit) {
    return { reply: 'busy', frameId: env.frameId, error: { code: 'over_credit', message: `more than ${limits.credit} frames in flight` }, dropped: 'over_credit' }
  }
  return undefined
}

/** An original is taken once, for a frame it was asked for, at that frame's camera size. */
function refuseEvidence(env: FrameEnvelope, limits: AdmissionLimits, state: StationState): Refusal | undefined {
  const refuse = (code: string, message: string): Refusal => ({ reply: 'error', frameId: env.frameId, error: { code, message }, evidence: true })
  const asked = state.pendingEvidence?.get(env.frameId)
  if (!asked) return refuse('unexpected_evidence', 'no evidence was asked for this frame, or it was already sent')
  if (env.width * env.height > limits.maxPixels) return refuse('too_large', `${env.width}x${env.height} exceeds ${limits.maxPixels} pixels`)
  if (env.width !== asked.width || env.height !== asked.height) {
    return refuse('bad_field', `the original must be the camera frame, ${asked.width}x${asked.height}, not ${env.width}x${env.height}`)
  }
  return undefined
}

/** A browser's own result is recorded only for the station this socket said hello as. */
export function refuseBrowserResult(result: { frameId: string; line: string; station: string }, hello: { line: string; station: string }): Refusal | undefined {
  if (result.line === hello.line && result.station === hello.station) return undefined
  return rejected(result.frameId, { code: 'wrong_station', message: `result is for ${result.line}/${result.station}, this socket is ${hello.line}/${hello.station}` })
}

/** A browser result whose JPEG follows waits for it; only so many may wait at once. */
export function refuseImageWait(frameId: string, waiting: number, maxWaiting: number): Refusal | undefined {
  return waiting < maxWaiting ? undefined : rejected(frameId, { code: 'busy', message: 'too many browser results waiting for their image' })
}
