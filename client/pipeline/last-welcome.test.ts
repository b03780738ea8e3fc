import { describe, expect, it } from 'vitest'
import type { WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import { loadWelcome, saveWelcome } from './last-welcome.ts'

class MemoryStorage implements Storage {
  readonly #m = new Map<string, string>()
  get length() {
    return this.#m.size
  }
  clear() {
    this.#m.clear()
  }
  getItem(k: string) {
    return this.#m.get(k) ?? null
  }
  key(i: number) {
    return [...this.#m.keys()][i] ?? null
  }
  removeItem(k: string) {
    this.#m.delete(k)
  }
  setItem(k: string, v: string) {
    this.#m.set(k, v)
  }
}

const model = { name: 'detector', version: '1', sha256: 'b'.repeat(64), url: '/models/detector/b.onnx', manifestUrl: '/models/detector/manifest.json' }
const welcome: Pick<WelcomeMessage, 'settings' | 'models'> = {
  settings: {
    line: 'L1', model: 'detector', policy: 'auto', auditFraction: 0.02, shadowFraction: 0.05, scoreThresholds: {}, captureFps: 5,
    prefilter: { enabled: true, change: 0.01, sharpness: 0.005, exposureLow: 0.2, exposureHigh: 0.45, clipped: 0.02, partPresent: 0.36 },
  },
  models: { detector: model },
}

describe('last welcome', () => {
  it('gives a station opened during an outage the settings and models of its last welcome', () => {
    const store = new MemoryStorage()
    expect(saveWelcome('L1', 'S1', welcome, 42, store)).toBe(true)
    expect(loadWelcome('L1', 'S1', store)).toEqual({ ...welcome, savedAt: 42 })
    expect(loadWelcome('L1', 'S2', store)).toBeNull()
  })

  it('ignores a saved record it cannot trust (another version, hand-edited)', () => {
    const store = new MemoryStorage()
    store.setItem('linesight.welcome:L1/S1', '{"settings":{"policy":"warp"}}')
    expect(loadWelcome('L1', 'S1', store)).toBeNull()
    store.setItem('linesight.welcome:L1/S1', 'not json')
    expect(loadWelcome('L1', 'S1', store)).toBeNull()
  })

  it('says so when nothing can be kept', () => {
    expect(saveWelcome('L1', 'S1', welcome, 1, null)).toBe(false)
  })
})
