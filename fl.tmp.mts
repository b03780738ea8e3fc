import { readFileSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
for (const f of ['node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm', 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm', 'models/detector/detector.onnx']) {
  const b = readFileSync(f)
  const t0 = performance.now()
  const br = brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }).length
  const t1 = performance.now()
  const gz = gzipSync(b, { level: 9 }).length
  console.log(f, b.length, 'br9', br, (t1 - t0).toFixed(0) + 'ms', 'gz9', gz, (performance.now() - t1).toFixed(0) + 'ms')
}
