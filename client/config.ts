/**
 * Client-side constants. What an administrator tunes per line (capture rate, routing, prefilter)
 * comes from the server in LineSettings; these are the station's own engineering choices.
 */

/** Capture rate until the server's settings arrive, frames/s. */
export const DEFAULT_CAPTURE_FPS = 2

/** JPEG quality for uplinked frames: 0.8 keeps small scratches visible at about a third of q=1's bytes. */
export const JPEG_QUALITY = 0.8

/** Frames being encoded at once; beyond it a frame is dropped as 'encoder' (the worker is behind). */
export const MAX_ENCODING = 2

/**
 * A sent frame with no result (nor busy/rejected ack) after this is counted lost and its credit
 * returned, ms. Above the server's LIVE_FRAME_TTL_MS (5 s), after which it answers expired frames.
 */
export const ANSWER_TIMEOUT_MS = 15_000

/** Detections of a result older than this are drawn faded on the live video, ms. */
export const STALE_RESULT_MS = 3_000

/** Failures a kiosk tile shows with their thumbnails: the newest large, four beside it. */
export const KIOSK_FAILURES_SHOWN = 5

export const APP_VERSION = '0.1.0'
