/**
 * Client-side constants. What an administrator tunes per line (capture rate, routing, prefilter)
 * comes from the server in LineSettings; these are the station's own engineering choices.
 */

/** Capture rate until the server's settings arrive, frames/s. */
export const DEFAULT_CAPTURE_FPS = 2

/** JPEG quality for uplinked frames: 0.8 keeps small scratches visible at about a third of q=1's bytes. */
export const JPEG_QUALITY = 0.8

/**
 * JPEG quality for model-size frames (the model-size uplink): a quarter of the pixels, so a higher
 * quality still sends about 4x fewer bytes than a full frame at JPEG_QUALITY, and detections near
 * their threshold move less (test/integration/uplink-model-size.test.ts).
 */
export const MODEL_SIZE_JPEG_QUALITY = 0.9

/** JPEG quality of a failing frame's camera original sent on the server's request (evidence on demand): kept for people to look at. */
export const EVIDENCE_JPEG_QUALITY = 0.9

/**
 * Frames in the inference worker at once (prefilter, encode, local detection); beyond it a frame is
 * dropped as 'encoder' (the worker is behind). Three lets one frame be inferred locally while the
 * next ones are prefiltered.
 */
export const MAX_IN_WORKER = 3

/** Timed runs per model when the worker measures a backend at startup; the median is kept. */
export const BACKEND_RUNS = 5

/**
 * Time a backend may spend on timed runs of one model, ms. A software WebGPU adapter takes seconds
 * per detector run; the first timed run always completes, then the budget stops it.
 */
export const BACKEND_BUDGET_MS = 3_000

/** Locally inferred results sent to the server and not yet acknowledged, at most. */
export const OUTBOX_MAX_IN_FLIGHT = 4

/** A shadow-checked frame whose server result has not come after this is no longer compared, ms. */
export const SHADOW_MAX_AGE_MS = 20_000

/** An operator hint (blur, too dark...) stays on screen at least this long after the last bad frame, ms. */
export const HINT_HOLD_MS = 2_000

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
