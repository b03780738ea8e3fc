/**
 * The prefilter in the browser: the frame downscaled to the model's size (area average, see
 * pixels.ts) against the reference, the last frame the station sent. The model answers with one
 * number per output (change, sharpness, exposure, clipping, part presence); what they mean for the
 * frame is decided on the main thread with the line's live thresholds (prefilter/decide.ts).
 */
import { inputSize, type PrefilterManifest } from '../../shared/domain/manifest.ts'
import { PREFILTER_OUTPUTS, type PrefilterOutputs } from '../prefilter/decide.ts'
import type { LocalEp } from './api.ts'
import { ort, ortQueue, sessionOptions } from './ort-runtime.ts'
import { areaResize, type Pixels } from './pixels.ts'

export class PrefilterRunner {
  readonly size: { width: number; height: number }
  readonly #inputs: [frame: string, reference: string]
  #reference: Float32Array
  #hasReference = false

  private constructor(
    readonly session: ort.InferenceSession,
    readonly manifest: PrefilterManifest,
    readonly ep: LocalEp,
  ) {
    this.size = inputSize(manifest)
    this.#reference = new Float32Array(3 * this.size.width * this.size.height)
    const names = manifest.inputs ?? session.inputNames
    this.#inputs = [names[0] ?? manifest.input.name, names[1] ?? 'reference']
  }

  static async create(bytes: Uint8Array, manifest: PrefilterManifest, ep: LocalEp): Promise<PrefilterRunner> {
    const session = await ortQueue.run(() => ort.InferenceSession.create(bytes, sessionOptions(ep)))
    const missing = PREFILTER_OUTPUTS.filter((o) => !session.outputNames.includes(o))
    if (missing.length > 0) {
      await ortQueue.run(() => session.release())
      throw new Error(`the prefilter model lacks outputs ${missing.join(', ')} (it has ${session.outputNames.join(', ')})`)
    }
    return new PrefilterRunner(session, manifest, ep)
  }

  get hasReference(): boolean {
    return this.#hasReference
  }

  /** The frame at the model's size, to run on and perhaps keep as the reference. */
  downscale(pixels: Pixels): Float32Array {
    return areaResize(pixels, new Float32Array(3 * this.size.width * this.size.height), this.size.width, this.size.height)
  }

  setReference(small: Float32Array): void {
    this.#reference = small
    this.#hasReference = true
  }

  async run(small: Float32Array): Promise<PrefilterOutputs> {
    return ortQueue.run(async () => {
      const dims = [1, 3, this.size.height, this.size.width]
      const out = await this.session.run({
        [this.#inputs[0]]: new ort.Tensor('float32', small, dims),
        [this.#inputs[1]]: new ort.Tensor('float32', this.#reference, dims),
      })
      const values = {} as PrefilterOutputs
      for (const name of PREFILTER_OUTPUTS) values[name] = Number((await out[name]!.getData())[0])
      for (const t of Object.values(out)) t.dispose()
      return values
    })
  }

  async release(): Promise<void> {
    await ortQueue.run(() => this.session.release())
  }
}
