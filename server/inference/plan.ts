/**
 * How many worker threads, and how many onnxruntime intra-op threads each: together they should
 * fill the cores and not oversubscribe them (two sessions each spinning two threads on two cores
 * spend their time in each other's way).
 *
 * Default without settings: one single-threaded worker per core. Measured on the 2-core dev
 * machine with the default detector on 640x480 JPEGs (`bench-engine.ts --workers 1 --threads 2`
 * against `--workers 2 --threads 1`, interleaved runs): 2 x 1 gave 1.5-2x the frames/s of 1 x 2.
 * Two reasons: while one worker is inside the model the other decodes its next frame (decode +
 * letterbox costs about twice the model on this detector), and a model this small gains little
 * from a second intra-op thread while onnxruntime's spinning threads double its CPU per frame.
 * Spinning is now off (worker-model.ts): end to end with model-size frames 1 x 2 then cost about
 * what 2 x 1 costs (8.9 against 8.5 server CPU ms per frame, one run each on a loaded machine,
 * bench/breakdown.ts) with half the model latency; the default stays until a quiet machine says more.
 */
export interface ThreadPlan {
  workers: number
  threadsPerWorker: number
  /** Why these numbers, for the startup log. */
  reason: string
}

export function planThreads(cores: number, workers?: number, threads?: number): ThreadPlan {
  const c = Math.max(1, Math.floor(cores))
  if (workers !== undefined && threads !== undefined) {
    const over = workers * threads > c ? ` (oversubscribes ${c} cores)` : ''
    return { workers, threadsPerWorker: threads, reason: `INFERENCE_WORKERS and INFERENCE_THREADS${over}` }
  }
  if (workers !== undefined) {
    return { workers, threadsPerWorker: Math.max(1, Math.floor(c / Math.max(1, workers))), reason: `INFERENCE_WORKERS, threads = ${c} cores / workers` }
  }
  if (threads !== undefined) {
    return { workers: Math.max(1, Math.floor(c / threads)), threadsPerWorker: threads, reason: `INFERENCE_THREADS, workers = ${c} cores / threads` }
  }
  return { workers: c, threadsPerWorker: 1, reason: `default: one single-threaded worker per core (${c})` }
}
