/**
 * The detector in the browser: letterbox (shared `computeLetterbox`, the manifest's pad), one
 * onnxruntime-web run, and the shared decoder, so a frame inferred here gives the same boxes in the
 * same original-image pixels as on the server.
 */
import { classThresholds, inputSize, type DetectManifest } from '../../shared/domain/manifest.ts'
import { verdictOf } from '../../shared/domain/verdict.ts'
import { decodeDetections } from '../../shared/inference/decode.ts'
import { detectOutputFormat, type OutputLayout } from '../../shared/inference/formats.ts'
import { computeLetterbox } from '../../shared/inference/letterbox.ts'
import type { LocalDetection, LocalEp } from './api.ts'
import { ort, ortQueue, sessionOptions } from './ort-runtime.ts'
import { areaResizeInto, type Pixels } from './pixels.ts'

export class DetectorRunner {
  readonly #input: Float32Array
  readonly #size: { width: number; height: number }
  #layout: OutputLayout | null = null

  private constructor(
    readonly session: ort.InferenceSession,
    readonly manifest: DetectManifest,
    readonly ep: LocalEp,
  ) {
    this.#size = inputSize(manifest)
    this.#input = new Float32Array(3 * this.#size.width * this.#size.height)
  }

  static async create(bytes: Uint8Array, manifest: DetectManifest, ep: LocalEp): Promise<DetectorRunner> {
    const session = await ortQueue.run(() => ort.InferenceSession.create(bytes, sessionOptions(ep)))
    return new DetectorRunner(session, manifest, ep)
  }

  /** One model run on whatever is in the input tensor (warm-up and timing), ms. */
  async timeRun(): Promise<number> {
    return ortQueue.run(async () => {
      const started = performance.now()
      const out = await this.session.run(this.#feeds())
      const ms = performance.now() - started
      this.#dispose(out)
      return ms
    })
  }

  async detect(pixels: Pixels, scoreOverrides: Readonly<Record<string, number>>): Promise<LocalDetection> {
    return ortQueue.run(async () => {
      const t0 = performance.now()
      const { width, height } = this.#size
      const lb = computeLetterbox(pixels.width, pixels.height, width, height)
      this.#input.fill(this.manifest.input.letterboxPad / 255)
      areaResizeInto(pixels, this.#input, width, height, { x: lb.padX, y: lb.padY, width: lb.resizedWidth, height: lb.resizedHeight })
      const t1 = performance.now()
      const out = await this.session.run(this.#feeds())
      const t2 = performance.now()
      const tensor = out[this.manifest.output.name]
      if (!tensor) throw new Error(`the detector has no output "${this.manifest.output.name}" (it has ${Object.keys(out).join(', ')})`)
      const data = (await tensor.getData()) as Float32Array
      this.#layout ??= detectOutputFormat(tensor.dims, { numClasses: this.manifest.classes.length }, this.manifest.output.name)
      const detections = decodeDetections(
        { data, dims: tensor.dims },
        {
          classes: this.manifest.classes,
          scoreThreshold: classThresholds(this.manifest, scoreOverrides),
          iouThreshold: this.manifest.thresholds.iou,
          letterbox: lb,
          layout: this.#layout,
        },
      )
      this.#dispose(out)
      return {
        detections,
        verdict: verdictOf(detections, this.manifest.defectClasses),
        ep: this.ep,
        timings: { preprocess: t1 - t0, infer: t2 - t1, postprocess: performance.now() - t2 },
      }
    })
  }

  #feeds(): Record<string, ort.Tensor> {
    const { width, height } = this.#size
    return { [this.manifest.input.name]: new ort.Tensor('float32', this.#input, [1, 3, height, width]) }
  }

  #dispose(out: ort.InferenceSession.OnnxValueMapType): void {
    for (const t of Object.values(out)) t.dispose()
  }

  async release(): Promise<void> {
    await ortQueue.run(() => this.session.release())
  }
}
