/**
 * Notices new model versions dropped into the models folder and asks for a reload once the
 * folder has been quiet for a moment (copying a large .onnx fires many events).
 *
 * The root is watched for new folders, and each folder below it on its own (a new model folder is
 * created before its manifest is written, so every folder is watched). Not one recursive watch:
 * on Linux, Node 20 implements `recursive` in JavaScript by walking and watching every file below,
 * and the models folder also holds training data (thousands of images).
 *
 * To publish a version without a window where the manifest and the file disagree, write the new
 * .onnx under its own name first, then replace manifest.json (a rename is atomic). A reload that
 * catches a half-copied file is refused (sha256 mismatch) and retried on the next event.
 */
import { watch, type FSWatcher } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isModelFolder } from './model-files.ts'
import type { EngineLog } from './types.ts'

export class ModelsWatcher {
  readonly #folders = new Map<string, FSWatcher>()
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  #root: FSWatcher | undefined
  #closed = false

  constructor(
    readonly dir: string,
    readonly debounceMs: number,
    private readonly onChange: (name: string) => void,
    private readonly log: EngineLog,
  ) {}

  async start(): Promise<void> {
    this.#root = watch(this.dir, (_event, filename) => {
      if (filename) void this.#folderEvent(filename.toString().split(/[\\/]/)[0]!)
    })
    this.#root.on('error', (e) => this.log.error({ err: e, dir: this.dir }, 'models folder watch failed; reload models with the admin API'))
    for (const d of await readdir(this.dir, { withFileTypes: true })) {
      if (d.isDirectory()) await this.#watchFolder(d.name)
    }
  }

  async #folderEvent(name: string): Promise<void> {
    await this.#watchFolder(name)
    if (this.#folders.has(name)) this.#schedule(name)
  }

  async #watchFolder(name: string): Promise<void> {
    if (this.#closed || this.#folders.has(name) || name.startsWith('.')) return
    const isDir = await stat(join(this.dir, name)).then((s) => s.isDirectory(), () => false)
    if (!isDir || this.#closed || this.#folders.has(name)) return // gone, or watched while we awaited
    const w = watch(join(this.dir, name), () => this.#schedule(name))
    w.on('error', (e) => {
      // The folder went away (deleted or renamed): stop watching it; the running version keeps serving.
      this.log.warn({ err: e, model: name }, 'model folder no longer watchable')
      w.close()
      this.#folders.delete(name)
    })
    this.#folders.set(name, w)
  }

  #schedule(name: string): void {
    if (this.#closed) return
    const t = this.#timers.get(name)
    if (t) clearTimeout(t)
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name)
        void isModelFolder(this.dir, name).then((isModel) => {
          if (isModel && !this.#closed) this.onChange(name)
        })
      }, this.debounceMs),
    )
  }

  close(): void {
    this.#closed = true
    this.#root?.close()
    for (const w of this.#folders.values()) w.close()
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#folders.clear()
    this.#timers.clear()
  }
}
