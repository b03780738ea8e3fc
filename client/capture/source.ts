/**
 * A capture source: whatever produces the station's video, as a MediaStream. The rest of the
 * pipeline (grabber, encoder, uplink) does not care whether it is a camera or the demo loop.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'

export type SourceKind = 'camera' | 'demo'

export interface CaptureSource {
  kind: SourceKind
  stream: MediaStream
  /** Camera label, or the number of sample images for the demo. */
  label: string
  /** The camera's deviceId; undefined for the demo. */
  deviceId?: string
  stop(): void
}

export type SourceResult = { ok: true; source: CaptureSource } | { ok: false; error: WireError }

export function stopStream(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop()
}
