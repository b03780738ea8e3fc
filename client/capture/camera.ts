/**
 * Cameras through getUserMedia. Tablets have a front and a back camera (sometimes a USB one too),
 * so the operator picks one and the choice is remembered per station.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { CaptureSource, SourceResult } from './source.ts'
import { stopStream } from './source.ts'

export interface CameraInfo {
  deviceId: string
  label: string
}

/** getUserMedia's DOMException names, as error codes the UI can explain. */
function cameraError(e: unknown): WireError {
  const name = (e as { name?: string } | null)?.name ?? ''
  const message = (e as Error | null)?.message ?? String(e)
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return { code: 'camera_denied', message }
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { code: 'no_camera', message }
    case 'NotReadableError':
    case 'AbortError':
      return { code: 'camera_busy', message }
    default:
      return { code: 'camera_failed', message: name ? `${name}: ${message}` : message }
  }
}

/** The camera API exists only in a secure context (https or localhost). */
export function cameraSupported(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getUserMedia === 'function'
}

/** Labels are empty until the page has camera permission; call this after a camera opened. */
export async function listCameras(): Promise<CameraInfo[]> {
  if (!cameraSupported()) return []
  const devices = await navigator.mediaDevices.enumerateDevices()
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }))
}

export async function openCamera(deviceId?: string): Promise<SourceResult> {
  if (!cameraSupported()) {
    return { ok: false, error: { code: 'insecure_context', message: 'the camera needs https (or localhost)' } }
  }
  const video: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } }
  if (deviceId) video.deviceId = { exact: deviceId }
  let stream: MediaStream
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video, audio: false })
  } catch (e) {
    return { ok: false, error: cameraError(e) }
  }
  const track = stream.getVideoTracks()[0]
  if (!track) {
    stopStream(stream)
    return { ok: false, error: { code: 'no_camera', message: 'the stream has no video track' } }
  }
  const source: CaptureSource = {
    kind: 'camera',
    stream,
    label: track.label,
    stop: () => stopStream(stream),
  }
  const id = track.getSettings().deviceId
  if (id) source.deviceId = id
  return { ok: true, source }
}
