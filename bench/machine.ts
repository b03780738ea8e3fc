/**
 * What the numbers were measured on: the machine, its load, Node, the native packages that do
 * the work, and the model. Recorded in results.json and at the top of the report, because a
 * frames/s figure means nothing without them.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { parseManifest, type DetectManifest } from '../shared/domain/manifest.ts'
import { selectUws } from '../server/gateway/uws.ts'
import { onnxParameterCount } from './onnx-params.ts'

export interface MachineInfo {
  cpuModel: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  packages: Record<string, string>
  libvips: string
  uws: { native: boolean; implementation: string }
}

export interface ModelInfo {
  name: string
  version: string
  file: string
  sha256: string
  /** The manifest's sha256 matches the file. */
  sha256Verified: boolean
  input: string
  output: string
  parameters: number
  fileKB: number
}

export interface LoadAverage {
  at: string
  one: number
  five: number
  fifteen: number
}

const PACKAGES = ['onnxruntime-node', 'sharp', 'uWebSockets.js', 'ws', 'better-sqlite3', 'tsx']

function packageVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { name: string; version: string }
    // uWebSockets.js is installed as an npm alias: name the build actually used
    return pkg.name === name ? pkg.version : `${pkg.version} (${pkg.name})`
  } catch (e) {
    return `not installed (${(e as Error).message.split('\n')[0]})`
  }
}

export function machineInfo(root: string): MachineInfo {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(root, p)])),
    libvips: sharp.versions.vips ?? 'unknown',
    uws: { native: selectUws(true).native, implementation: selectUws(true).implementation },
  }
}

export function loadAverage(): LoadAverage {
  const [one, five, fifteen] = os.loadavg() as [number, number, number]
  return { at: new Date().toISOString(), one, five, fifteen }
}

export async function modelInfo(modelsDir: string, name: string): Promise<{ info: ModelInfo; manifest: DetectManifest; bytes: Uint8Array }> {
  const manifestFile = join(modelsDir, name, 'manifest.json')
  const manifest = parseManifest(JSON.parse(await readFile(manifestFile, 'utf8')), manifestFile)
  if (manifest.task !== 'detect') throw new Error(`${manifestFile}: the benchmark needs a detector, this is a ${manifest.task} model`)
  const bytes = new Uint8Array(await readFile(join(modelsDir, name, manifest.file)))
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  return {
    manifest,
    bytes,
    info: {
      name: manifest.name,
      version: manifest.version,
      file: join(modelsDir, name, manifest.file),
      sha256,
      sha256Verified: sha256 === manifest.sha256,
      input: `${manifest.input.name} [${manifest.input.shape.join(', ')}] ${manifest.input.layout}`,
      output: `${manifest.output.name} (${manifest.output.format}), ${manifest.classes.length} classes`,
      parameters: onnxParameterCount(bytes).parameters,
      fileKB: Math.round(bytes.length / 1024),
    },
  }
}
