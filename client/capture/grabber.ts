/**
 * Grabs frames from a MediaStream as ImageBitmaps at the capture rate. Where the browser has
 * MediaStreamTrackProcessor (Chromium), frames come straight from the track, with no dependence on
 * the <video> element being painted; elsewhere createImageBitmap(video) on a timer.
 *
 * The bitmap is owned by whoever receives it: it must be transferred or closed.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'

export interface GrabbedFrame {
  bitmap: ImageBitmap
  /** ms since the epoch, station clock. */
  capturedAt: number
  width: number
  height: number
  /** Time to turn the video frame into a bitmap, ms. */
  captureMs: number
}

export type GrabMethod = 'track-processor' | 'video-element'

export interface GrabberOptions {
  stream: MediaStream
  /** Read before every frame, so a settings change applies live. */
  fps: () => number
  onFrame: (frame: GrabbedFrame) => void
  onError: (error: WireError) => void
}

export interface Grabber {
  method: GrabMethod
  stop(): void
}

// Chromium's MediaStreamTrackProcessor, not yet in TypeScript's DOM library.
interface VideoFrameLike {
  close(): void
}
type TrackProcessorCtor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrameLike> }

function trackProcessor(): TrackProcessorCtor | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessorCtor }).MediaStreamTrackProcessor
}

const interval = (fps: () => number) => 1000 / Math.min(60, Math.max(0.2, fps()))

export function startGrabber(o: GrabberOptions): Grabber {
  const track = o.stream.getVideoTracks()[0]
  const Processor = trackProcessor()
  if (track && Processor) return grabFromTrack(o, track, Processor)
  return grabFromVideo(o)
}

function grabFromTrack(o: GrabberOptions, track: MediaStreamTrack, Processor: TrackProcessorCtor): Grabber {
  // maxBufferSize 1: a frame we are too slow to read is replaced by the next, never queued
  const reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader()
  let stopped = false
  let due = 0
  const loop = async () => {
    while (!stopped) {
      const { value: frame, done } = await reader.read()
      if (done || !frame) {
        if (!stopped) o.onError({ code: 'track_ended', message: 'the video track ended (camera unplugged or stopped)' })
        return
      }
      const now = performance.now()
      if (now < due) {
        frame.close()
        continue
      }
      // Catch up by skipping, not by bursting: after a stall the next frame is one interval on.
      due = Math.max(due + interval(o.fps), now)
      const capturedAt = Date.now()
      try {
        const bitmap = await createImageBitmap(frame as unknown as ImageBitmapSource)
        if (stopped) bitmap.close()
        else o.onFrame({ bitmap, capturedAt, width: bitmap.width, height: bitmap.height, captureMs: performance.now() - now })
      } finally {
        frame.close()
      }
    }
  }
  loop().catch((e: unknown) => {
    if (!stopped) o.onError({ code: 'grab_failed', message: (e as Error).message })
  })
  return {
    method: 'track-processor',
    stop: () => {
      stopped = true
      reader.cancel().catch((e: unknown) => o.onError({ code: 'grab_stop_failed', message: (e as Error).message }))
    },
  }
}

function grabFromVideo(o: GrabberOptions): Grabber {
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false
  // a video element of our own, off the page: the grab rate must not depend on the view's element
  const v = document.createElement('video')
  v.muted = true
  v.playsInline = true
  v.srcObject = o.stream
  v.play().catch((e: unknown) => o.onError({ code: 'video_play_failed', message: (e as Error).message }))
  const tick = async () => {
    const started = performance.now()
    // HAVE_CURRENT_DATA: before it, createImageBitmap(video) throws InvalidStateError
    if (v.readyState >= 2 && v.videoWidth > 0) {
      const capturedAt = Date.now()
      try {
        const bitmap = await createImageBitmap(v)
        if (stopped) bitmap.close()
        else o.onFrame({ bitmap, capturedAt, width: bitmap.width, height: bitmap.height, captureMs: performance.now() - started })
      } catch (e) {
        o.onError({ code: 'grab_failed', message: (e as Error).message })
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), Math.max(0, interval(o.fps) - (performance.now() - started)))
  }
  void tick()
  return {
    method: 'video-element',
    stop: () => {
      stopped = true
      if (timer) clearTimeout(timer)
      v.pause()
      v.srcObject = null
    },
  }
}
