/**
 * Part ids printed on the part: the first barcode, QR code or DataMatrix in a frame. The browser's
 * own BarcodeDetector where it has one for these formats (Chrome on Android, macOS, ChromeOS),
 * else the `barcode-detector` polyfill (zxing-cpp compiled to WebAssembly). Its .wasm is served
 * by linesight itself (Vite emits it with the app under /assets/, hashed), never a CDN: a plant
 * network often has no internet. It is cached like the onnxruntime binary, checked against the
 * sha256 the polyfill names, so a station started offline still reads codes.
 */
import { BarcodeDetector as PolyfillDetector, prepareZXingModule, ZXING_WASM_SHA256, type BarcodeFormat } from 'barcode-detector/ponyfill'
import zxingWasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url'
import type { WorkerReply } from './api.ts'
import { fetchImmutable } from './model-cache.ts'

/** The cache the code reader's binary is kept in (one entry: the binary of this app version). */
export const CODES_CACHE = 'linesight-codes-v1'

/** Absolute URL of the code reader's binary as Vite emitted it. */
export const CODES_WASM_URL = new URL(zxingWasmUrl, self.location.href).href

/** What parts carry: 2D codes and the common 1D ones. */
export const CODE_FORMATS: BarcodeFormat[] = ['qr_code', 'data_matrix', 'code_128', 'code_39', 'ean_13', 'itf']

interface Detector {
  detect(image: ImageBitmapSource): Promise<{ rawValue: string }[]>
}

let reader: Promise<WorkerReply<{ detector: Detector; native: boolean }>> | null = null

async function nativeDetector(): Promise<Detector | null> {
  const Native = (globalThis as { BarcodeDetector?: typeof PolyfillDetector }).BarcodeDetector
  if (!Native) return null
  try {
    const supported = await Native.getSupportedFormats()
    const formats = CODE_FORMATS.filter((f) => supported.includes(f))
    return formats.length > 0 ? new Native({ formats }) : null
  } catch {
    return null
  }
}

async function create(): Promise<WorkerReply<{ detector: Detector; native: boolean }>> {
  const native = await nativeDetector()
  if (native) return { ok: true, value: { detector: native, native: true } }
  const binary = await fetchImmutable(CODES_WASM_URL, CODES_CACHE, ZXING_WASM_SHA256)
  if (!binary.ok) return { ok: false, error: { code: 'code_reader_unavailable', message: `the code reader could not load: ${binary.error.message}` } }
  await pruneOld()
  const wasmBinary = binary.value.value.buffer.slice(binary.value.value.byteOffset, binary.value.value.byteOffset + binary.value.value.byteLength) as ArrayBuffer
  // the binary is handed over: the polyfill never fetches it (and never from its default CDN)
  prepareZXingModule({ overrides: { wasmBinary, locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? CODES_WASM_URL : prefix + path) } })
  return { ok: true, value: { detector: new PolyfillDetector({ formats: CODE_FORMATS }), native: false } }
}

async function pruneOld(): Promise<void> {
  try {
    const cache = await caches.open(CODES_CACHE)
    for (const req of await cache.keys()) if (req.url !== CODES_WASM_URL) await cache.delete(req)
  } catch {
    // no Cache Storage (insecure context): nothing kept, nothing to prune
  }
}

/** The first code in the image, its text; null when there is none. */
export async function readCode(image: ImageData | ImageBitmap): Promise<WorkerReply<string | null>> {
  reader ??= create()
  const r = await reader
  if (!r.ok) {
    // tried again on a later frame (the server may be back)
    reader = null
    return r
  }
  try {
    const found = await r.value.detector.detect(image)
    return { ok: true, value: found.find((c) => c.rawValue.length > 0)?.rawValue ?? null }
  } catch (e) {
    return { ok: false, error: { code: 'code_read_failed', message: (e as Error).message } }
  }
}
