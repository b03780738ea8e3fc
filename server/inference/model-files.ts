/**
 * Reading one model folder, `models/<name>/`: its manifest, and the .onnx whose sha256 must match
 * it. Every refusal names the file at fault. The bytes returned are the bytes that were hashed,
 * and the workers load exactly those (no second read that could see a different file).
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ManifestError, parseManifest, type ModelManifest } from '../../shared/domain/manifest.ts'
import { ModelLoadError } from './types.ts'

/** Same alphabet as a manifest's `name`: a reload request can never point outside the models folder. */
const MODEL_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/

export interface ModelFiles {
  manifest: ModelManifest
  manifestPath: string
  file: string
  bytes: Uint8Array
  sha256: string
}

export function manifestPath(root: string, name: string): string {
  if (!MODEL_NAME.test(name)) throw new ModelLoadError('bad_manifest', `"${name}" is not a model name (lowercase letters, digits, _ and -)`)
  return join(root, name, 'manifest.json')
}

/** True when `models/<name>/manifest.json` exists: folders without one (tools, data) are not models. */
export async function isModelFolder(root: string, name: string): Promise<boolean> {
  if (!MODEL_NAME.test(name)) return false
  return stat(join(root, name, 'manifest.json')).then(
    (s) => s.isFile(),
    () => false,
  )
}

/** The manifest's `task` without validating the rest ("prefilter" models are the browser's, not the engine's). */
export async function manifestTask(root: string, name: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await readFile(manifestPath(root, name), 'utf8')) as { task?: unknown }
    return typeof json?.task === 'string' ? json.task : undefined
  } catch {
    return undefined // the full read in readModelFiles reports what is wrong with it
  }
}

export async function readModelFiles(root: string, name: string): Promise<ModelFiles> {
  const path = manifestPath(root, name)
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (e) {
    throw new ModelLoadError('bad_manifest', `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
  }
  let manifest: ModelManifest
  try {
    manifest = parseManifest(json, path)
  } catch (e) {
    if (e instanceof ManifestError) throw new ModelLoadError('bad_manifest', e.message)
    throw e
  }
  if (manifest.name !== name) throw new ModelLoadError('bad_manifest', `${path}: name "${manifest.name}" does not match its folder "${name}"`)

  const file = join(root, name, manifest.file)
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (e) {
    throw new ModelLoadError('missing_file', `${file}: cannot read the model named by ${path}: ${(e as Error).message}`)
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (sha256 !== manifest.sha256) {
    throw new ModelLoadError('sha_mismatch', `${file}: sha256 is ${sha256}, but ${path} says ${manifest.sha256}`)
  }
  return { manifest, manifestPath: path, file, bytes, sha256 }
}
