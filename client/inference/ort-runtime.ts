/**
 * onnxruntime-web, set up once per worker. The WebGPU build (`onnxruntime-web/webgpu`) runs both
 * candidate execution providers, `webgpu` and `wasm`, from one WebAssembly binary that Vite emits
 * with the app (hashed name under /assets/). It is served from the app, never a CDN: a plant
 * network often has no internet, and the binary is cached for offline starts like the models.
 */
import * as ort from 'onnxruntime-web/webgpu'
import runtimeWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url'
import type { WorkerReply } from './api.ts'
import { fetchImmutable, RUNTIME_CACHE } from './model-cache.ts'
import { Serial } from './serial.ts'

export { ort }

/** Absolute URL of the runtime binary as Vite emitted it. */
export const RUNTIME_WASM_URL = new URL(runtimeWasmUrl, self.location.href).href

/**
 * Every session call of this worker goes through one queue. The WebGPU build suspends WebAssembly
 * (Asyncify) while it waits for the GPU, and entering it again from another session's run during
 * that wait is not supported; a frame waits its turn instead.
 */
export const ortQueue = new Serial()

export function sessionOptions(ep: string): ort.InferenceSession.SessionOptions {
  return { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 }
}

let configured: Promise<WorkerReply<{ fromCache: boolean }>> | null = null

async function configure(): Promise<WorkerReply<{ fromCache: boolean }>> {
  // Threads need SharedArrayBuffer, i.e. a cross-origin isolated page, which the PWA is not; one
  // thread also leaves the tablet's other cores to the camera, the video and the page.
  ort.env.wasm.numThreads = 1
  // onnxruntime prints its warnings (e.g. shape ops placed on the CPU) through console.error, where
  // they read as failures; real errors still reach the caller as exceptions
  ort.env.logLevel = 'error'
  ort.env.wasm.proxy = false
  ort.env.wasm.wasmPaths = { wasm: RUNTIME_WASM_URL }
  const binary = await fetchImmutable(RUNTIME_WASM_URL, RUNTIME_CACHE)
  if (!binary.ok) return binary
  // from Cache Storage: a station that starts while the server is down still gets its runtime
  ort.env.wasm.wasmBinary = binary.value.value
  return { ok: true, value: { fromCache: binary.value.fromCache } }
}

export function configureOrt(): Promise<WorkerReply<{ fromCache: boolean }>> {
  configured ??= configure()
  return configured
}
