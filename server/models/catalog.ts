/**
 * What the gateway knows about the models folder: each model's manifest and file, verified
 * against its sha256, and the immutable URL browsers fetch it from (`/models/<name>/<sha>.onnx`).
 * The inference engine's registry loads sessions; this only describes and serves files.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseManifest, type ModelManifest } from '../../shared/domain/manifest.ts'
import type { ModelRef } from '../../shared/protocol/messages/welcome.ts'

export interface CatalogEntry {
  manifest: ModelManifest
  dir: string
  file: string
  bytes: number
  ref: ModelRef
}

export interface CatalogError {
  path: string
  message: string
}

export class ModelCatalog {
  #entries = new Map<string, CatalogEntry>()
  #errors: CatalogError[] = []

  constructor(readonly dir: string) {}

  /** Re-reads every manifest; a model that fails verification is listed in `errors`, not served. */
  async refresh(): Promise<void> {
    const entries = new Map<string, CatalogEntry>()
    const errors: CatalogError[] = []
    let names: string[] = []
    try {
      names = (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
    } catch (err) {
      errors.push({ path: this.dir, message: `cannot read models folder: ${(err as Error).message}` })
    }
    for (const name of names.sort()) {
      const manifestPath = join(this.dir, name, 'manifest.json')
      try {
        await stat(manifestPath)
      } catch {
        continue // a folder without a manifest (tools, data, samples) is not a model
      }
      try {
        const manifest = parseManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath)
        const file = join(this.dir, name, manifest.file)
        const bytes = await readFile(file)
        const sha = createHash('sha256').update(bytes).digest('hex')
        if (sha !== manifest.sha256) throw new Error(`${file}: sha256 ${sha} does not match the manifest's ${manifest.sha256}`)
        entries.set(manifest.name, {
          manifest,
          dir: join(this.dir, name),
          file,
          bytes: bytes.length,
          ref: {
            name: manifest.name,
            version: manifest.version,
            sha256: manifest.sha256,
            url: `/models/${encodeURIComponent(manifest.name)}/${manifest.sha256}.onnx`,
            manifestUrl: `/models/${encodeURIComponent(manifest.name)}/manifest.json`,
          },
        })
      } catch (err) {
        errors.push({ path: manifestPath, message: (err as Error).message })
      }
    }
    this.#entries = entries
    this.#errors = errors
  }

  get(name: string): CatalogEntry | undefined {
    return this.#entries.get(name)
  }

  list(): CatalogEntry[] {
    return [...this.#entries.values()]
  }

  get errors(): readonly CatalogError[] {
    return this.#errors
  }
}
