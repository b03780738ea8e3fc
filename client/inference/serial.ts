/**
 * Runs async jobs one after another. An onnxruntime-web session must not start a run while another
 * is in progress, and frames (prefilter, detector, shadow checks) arrive whenever the camera
 * delivers them.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(job, job)
    // the chain continues whatever this job's outcome; its caller sees the outcome
    this.#tail = next.then(
      () => undefined,
      () => undefined,
    )
    return next
  }
}
