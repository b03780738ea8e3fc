/**
 * One detector, several runtimes: onnxruntime-node, and onnxruntime-web in headless Chromium on
 * its WASM and WebGPU backends. Every runtime gets the same input tensor (letterboxed once, in
 * Node, by the server's own preprocessing) so that a difference in detections can only come
 * from the runtime, and the same shared decoder turns each output into detections.
 */
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { BrowserContext, Page } from 'playwright-core'
import { parseManifest, type DetectManifest } from '../../shared/domain/manifest.ts'
import { PixelBuffers } from '../../server/inference/pixels.ts'
import { letterboxInto } from '../../server/inference/preprocess.ts'
import type { FullFrameDecoder } from '../../server/inference/types.ts'
import type { Letterbox } from '../../shared/inference/letterbox.ts'
import { collectProblems, launchChromium } from './browser.ts'
import { ROOT } from './server.ts'

export interface Tensor {
  data: Float32Array
  dims: number[]
}

export interface Runtime {
  name: string
  run(input: Tensor): Promise<Tensor>
  close(): Promise<void>
}

export async function loadDetector(dir = join(ROOT, 'models/detector')): Promise<{ manifest: DetectManifest; file: string }> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')), dir)
  if (manifest.task !== 'detect') throw new Error(`${dir} is not a detector`)
  return { manifest, file: join(dir, manifest.file) }
}

/** The server's preprocessing: decode + letterbox into NCHW float32, with a FULL_FRAME_DECODER. */
export async function prepare(image: Uint8Array, manifest: DetectManifest, opts: { fullFrameDecoder?: FullFrameDecoder } = {}): Promise<{ input: Tensor; letterbox: Letterbox }> {
  const [, , h, w] = manifest.input.shape as [number, number, number, number]
  const pixels = new PixelBuffers({ width: w, height: h, pad: manifest.input.letterboxPad }, 1)
  const pre = await letterboxInto(new Uint8Array(image), pixels, 0, { maxPixels: 50_000_000, ...opts })
  return { input: { data: pixels.tensor, dims: [1, 3, h, w] }, letterbox: pre.letterbox }
}

export async function nodeRuntime(modelFile: string, manifest: DetectManifest): Promise<Runtime> {
  const session = await ort.InferenceSession.create(modelFile, { executionProviders: ['cpu'], intraOpNumThreads: 1 })
  return {
    name: 'onnxruntime-node cpu',
    async run(input) {
      const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', input.data, input.dims) })
      const t = out[manifest.output.name]!
      return { data: t.data as Float32Array, dims: [...t.dims] }
    },
    close: () => session.release(),
  }
}

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.onnx': 'application/octet-stream' }

/** Serves onnxruntime-web's dist folder, the model and a blank page, on a free local port. */
async function harnessServer(modelFile: string): Promise<{ server: Server; url: string }> {
  const ortDir = join(ROOT, 'node_modules/onnxruntime-web/dist')
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const send = (status: number, body: Buffer | string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type })
      res.end(body)
    }
    if (path === '/') return send(200, HARNESS, 'text/html')
    // the browser asks for it on every page; a 404 would be a console error
    if (path === '/favicon.ico') return send(204, '')
    const file = path === '/model.onnx' ? modelFile : path.startsWith('/ort/') ? normalize(join(ortDir, path.slice(5))) : null
    if (!file || (file !== modelFile && !file.startsWith(ortDir))) return send(404, 'not found')
    readFile(file).then(
      (body) => send(200, body, TYPES[extname(file)] ?? 'application/octet-stream'),
      () => send(404, 'not found'),
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return { server, url: `http://127.0.0.1:${port}` }
}

/**
 * The page: loads onnxruntime-web and exposes `harness.create(ep)` and `harness.run(...)`; the
 * tensors cross the page boundary as base64 of their float32 bytes.
 */
const HARNESS = `<!doctype html><title>runtime harness</title><script type="module">
import * as ort from '/ort/ort.all.min.mjs'
ort.env.wasm.wasmPaths = location.origin + '/ort/'
// one thread: the page is not cross-origin isolated, and one thread is deterministic
ort.env.wasm.numThreads = 1
// as the station's worker does (client/inference/ort-runtime.ts): onnxruntime's warnings, such as
// shape ops placed on the CPU, go to console.error and are not errors
ort.env.logLevel = 'error'
let session
const toB64 = (f) => { const u8 = new Uint8Array(f.buffer, f.byteOffset, f.byteLength); let s = ''; for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000)); return btoa(s) }
window.harness = {
  async create(ep) { session = await ort.InferenceSession.create('/model.onnx', { executionProviders: [ep], logSeverityLevel: 3 }); return 'ok' },
  async run(data, dims, inName, outName) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
    const out = (await session.run({ [inName]: new ort.Tensor('float32', new Float32Array(bytes.buffer), dims) }))[outName]
    return { data: toB64(out.data), dims: [...out.dims] }
  },
}
window.harnessReady = true
</script>`

const b64 = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64')

interface Harness {
  harness: { create(ep: string): Promise<string>; run(data: string, dims: number[], inName: string, outName: string): Promise<{ data: string; dims: number[] }> }
}

/** onnxruntime-web in headless Chromium, on one backend. Fails on any console error in the page. */
export async function browserRuntime(modelFile: string, manifest: DetectManifest, ep: 'wasm' | 'webgpu'): Promise<Runtime> {
  const profileDir = await mkdtemp(join(tmpdir(), 'linesight-ort-'))
  const { server, url } = await harnessServer(modelFile)
  let context: BrowserContext | undefined
  const problems: string[] = []
  try {
    context = await launchChromium({ profileDir })
    const page: Page = context.pages()[0] ?? (await context.newPage())
    collectProblems(page, `ort-web ${ep}`, problems)
    await page.goto(url)
    await page.waitForFunction('window.harnessReady === true')
    const created = await page.evaluate((ep) => (globalThis as unknown as Harness).harness.create(ep), ep)
    if (created !== 'ok') throw new Error(`could not create a ${ep} session`)
    return {
      name: `onnxruntime-web ${ep}`,
      async run(input) {
        const out = await page.evaluate(
          (a) => (globalThis as unknown as Harness).harness.run(a.data, a.dims, a.inName, a.outName),
          { data: b64(input.data), dims: input.dims, inName: manifest.input.name, outName: manifest.output.name },
        )
        if (problems.length) throw new Error(problems.join('\n'))
        const buf = Buffer.from(out.data, 'base64')
        return { data: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), dims: out.dims }
      },
      async close() {
        await context?.close()
        server.close()
        await rm(profileDir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await context?.close()
    server.close()
    await rm(profileDir, { recursive: true, force: true })
    throw err
  }
}
