/**
 * Test support for test/integration/inference-*.test.ts: throwaway model folders built from the
 * real default detector, frames to run, and engine settings. Nothing here is used at runtime.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import type { DetectManifest } from '../../../shared/domain/manifest.ts'
import type { EngineSettings } from '../engine.ts'
import { channelMeanModel } from './onnx-writer.ts'

export const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)))

/**
 * The detector the tests run: the committed default (`models/detector`), or a stand-in exported
 * by hand into test/.tmp/models/detector while the default is not trained yet.
 */
export function detectorSource(): string | undefined {
  for (const dir of [join(REPO, 'models/detector'), join(REPO, 'test/.tmp/models/detector')]) {
    if (existsSync(join(dir, 'manifest.json'))) return dir
  }
  return undefined
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export interface ModelsDir {
  dir: string
  /** Copies the detector in as `name`, with manifest changes; returns the manifest written. */
  addDetector(name: string, patch?: (m: DetectManifest) => void): Promise<DetectManifest>
  /** Writes a model folder from raw parts (bad manifests, foreign .onnx files). */
  addRaw(name: string, files: Record<string, string | Uint8Array>): Promise<void>
  remove(): Promise<void>
}

export async function makeModelsDir(source: string): Promise<ModelsDir> {
  const dir = await mkdtemp(join(tmpdir(), 'linesight-models-'))
  const base = JSON.parse(await readFile(join(source, 'manifest.json'), 'utf8')) as DetectManifest
  return {
    dir,
    async addDetector(name, patch) {
      const m = structuredClone(base)
      m.name = name
      patch?.(m)
      await mkdir(join(dir, name), { recursive: true })
      await copyFile(join(source, base.file), join(dir, name, m.file))
      // The manifest goes last, as a publisher should write it (see models-watcher.ts).
      await writeFile(join(dir, name, 'manifest.json.tmp'), JSON.stringify(m, null, 2))
      await rename(join(dir, name, 'manifest.json.tmp'), join(dir, name, 'manifest.json'))
      return m
    },
    async addRaw(name, files) {
      await mkdir(join(dir, name), { recursive: true })
      for (const [file, content] of Object.entries(files)) await writeFile(join(dir, name, file), content)
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** A detect manifest for a foreign .onnx (what someone would write for a classifier by mistake). */
export function manifestFor(base: DetectManifest, name: string, file: string, bytes: Uint8Array): DetectManifest {
  return { ...structuredClone(base), name, file, sha256: sha256(bytes) }
}

export const nonDetectorOnnx = () => channelMeanModel()

/** The committed sample frames (models/samples), or synthetic ones where they are missing. */
export async function sampleFrames(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const dir = join(REPO, 'models/samples')
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort() : []
  if (files.length) return Promise.all(files.map(async (f) => ({ name: f, bytes: new Uint8Array(await readFile(join(dir, f))) })))
  return Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => ({ name: `synthetic-${i}.jpg`, bytes: await syntheticJpeg(640, 480, i) })))
}

/** A deterministic JPEG with a few bright and dark blocks on grey. */
export async function syntheticJpeg(width: number, height: number, seed: number): Promise<Uint8Array> {
  let s = seed * 9301 + 49297
  const rnd = () => ((s = (s * 9301 + 49297) % 233280) / 233280)
  const blocks = Array.from({ length: 6 }, () => {
    const w = Math.max(8, Math.floor(rnd() * width * 0.3))
    const h = Math.max(8, Math.floor(rnd() * height * 0.3))
    const v = Math.floor(rnd() * 255)
    return { input: { create: { width: w, height: h, channels: 3 as const, background: { r: v, g: 255 - v, b: (v * 7) % 255 } } }, left: Math.floor(rnd() * (width - w)), top: Math.floor(rnd() * (height - h)) }
  })
  const buf = await sharp({ create: { width, height, channels: 3, background: { r: 120, g: 120, b: 120 } } }).composite(blocks).jpeg({ quality: 90 }).toBuffer()
  return new Uint8Array(buf)
}

/** A PNG that is only a header claiming `width` x `height`: a decompression bomb's first bytes. */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (b: Uint8Array) => {
    let c = 0xffffffff
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length)
    const v = new DataView(out.buffer)
    v.setUint32(0, data.length)
    out.set(new TextEncoder().encode(type), 4)
    out.set(data, 8)
    v.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)))
    return out
  }
  const ihdr = new Uint8Array(13)
  const v = new DataView(ihdr.buffer)
  v.setUint32(0, width)
  v.setUint32(4, height)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array([0x78, 0x9c, 0x03, 0x00])), chunk('IEND', new Uint8Array())]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function testSettings(modelsDir: string, over: Partial<EngineSettings> = {}): EngineSettings {
  return {
    modelsDir,
    defaultModel: 'detector',
    workers: 1,
    threadsPerWorker: 1,
    executionProviders: ['cpu'],
    epFallback: true,
    batchMaxSize: 1,
    batchMaxDelayMs: 0,
    watchdogTimeoutMs: 30_000,
    maxPixels: 40_000_000,
    modelsWatch: false,
    modelsWatchDebounceMs: 200,
    watchdogMaxRestartsPerMinute: 5,
    ...over,
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A fresh copy of the bytes: the engine takes ownership of (transfers) what it is given. */
export const copy = (b: Uint8Array) => new Uint8Array(b)
