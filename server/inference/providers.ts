/**
 * Execution providers, tried in the order INFERENCE_EPS gives them (onnxruntime-web's
 * backend-impl.ts does the same for its backends): every failure is kept with its reason, the
 * provider that finally loaded is reported, and nothing falls back unless INFERENCE_EP_FALLBACK
 * allows it.
 */
import * as ort from 'onnxruntime-node'
import type { ProviderFailure } from './messages.ts'

/** How to get a provider that onnxruntime-node does not bundle (linux/x64 wheels ship only cpu and webgpu). */
const INSTALL_HINTS: Record<string, string> = {
  cuda:
    'the CUDA provider is not bundled with onnxruntime-node; install it (needs CUDA 12 and cuDNN 9 on the host) with ' +
    '`node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12` ' +
    '(or `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`)',
  tensorrt:
    'the TensorRT provider needs the CUDA provider files: `node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12` plus TensorRT 10 libraries on the library path',
}

export function installHint(ep: string): string | undefined {
  return INSTALL_HINTS[ep]
}

export class ProviderError extends Error {
  override name = 'ProviderError'
  /** When the CPU provider failed too, the file is at fault, not the providers. */
  readonly code: 'provider_unavailable' | 'load_failed'
  constructor(readonly failures: ProviderFailure[]) {
    const cpuFailed = failures.some((f) => f.ep === 'cpu')
    super(
      cpuFailed
        ? `onnxruntime could not load the model: ${failures.map((f) => `${f.ep}: ${f.error}`).join('; ')}`
        : `no execution provider asked for (INFERENCE_EPS) could load the model: ${failures.map((f) => `${f.ep}: ${f.error}`).join('; ')}`,
    )
    this.code = cpuFailed ? 'load_failed' : 'provider_unavailable'
  }
}

/** Providers this onnxruntime-node build knows, and whether each ships in the npm package. */
export function knownProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends()
}

function describe(ep: string, error: unknown): string {
  const message = (error as Error)?.message ?? String(error)
  const known = knownProviders().find((b) => b.name === ep)
  if (!known) return `"${ep}" is not a provider of this onnxruntime-node build (known: ${knownProviders().map((b) => b.name).join(', ')}); ${message}`
  const hint = installHint(ep)
  return hint && !known.bundled ? `${message}; ${hint}` : message
}

/**
 * Creates a session on the first provider that loads. Each provider is tried alone, so the one
 * reported is the one that ran (onnxruntime still places nodes a GPU provider lacks on the CPU).
 */
export async function createSession(
  bytes: Uint8Array,
  eps: readonly string[],
  fallback: boolean,
  options: ort.InferenceSession.SessionOptions,
): Promise<{ session: ort.InferenceSession; ep: string; failures: ProviderFailure[] }> {
  const failures: ProviderFailure[] = []
  for (const ep of eps.length ? eps : ['cpu']) {
    try {
      const session = await ort.InferenceSession.create(bytes, { ...options, executionProviders: [ep] })
      return { session, ep, failures }
    } catch (e) {
      failures.push({ ep, error: describe(ep, e) })
      if (!fallback) break
    }
  }
  throw new ProviderError(failures)
}
