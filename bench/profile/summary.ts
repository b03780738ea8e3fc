/**
 * Where a CPU profile's time went: self time per function (the top ones), and per area of the
 * code (linesight's own folders, each package, Node's internals, GC), with idle time left out.
 */
import type { CpuProfile } from './inspector.ts'

export interface ProfileSummary {
  /** Sampled time that was not idle, ms. */
  busyMs: number
  idleMs: number
  top: { fn: string; where: string; selfMs: number; share: number }[]
  areas: { area: string; selfMs: number; share: number }[]
}

/** Which part of the code a script URL belongs to. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)'
  if (url.startsWith('node:')) return 'node internals'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  const own = /\/(server|shared|bench|test)\/([^/]+)\//.exec(url)
  if (own) return `${own[1]}/${own[2]}`
  const file = /\/(server|shared|bench)\/[^/]+$/.exec(url)
  return file ? file[1]! : url
}

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(server|shared|bench|test|node_modules)\//, '$1/')

export function summariseProfile(p: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  const meanDelta = (p.endTime - p.startTime) / Math.max(1, p.samples.length)
  // timeDeltas[i + 1] is how long sample i lasted; the last one gets the mean
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? meanDelta
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + us)
  }
  const fns = new Map<string, { fn: string; where: string; us: number }>()
  const areas = new Map<string, number>()
  let idleUs = 0
  let busyUs = 0
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame
    const fn = cf.functionName || '(anonymous)'
    if (fn === '(idle)') {
      idleUs += us
      continue
    }
    busyUs += us
    // tsx hands V8 transformed TypeScript, whose line numbers are not the source's: name the file only
    const where = !cf.url ? '' : cf.url.endsWith('.ts') ? shortUrl(cf.url) : `${shortUrl(cf.url)}:${cf.lineNumber + 1}`
    const key = `${fn} ${where}`
    const e = fns.get(key) ?? { fn, where, us: 0 }
    e.us += us
    fns.set(key, e)
    const area = areaOf(cf.url, fn)
    areas.set(area, (areas.get(area) ?? 0) + us)
  }
  const share = (us: number) => (busyUs ? us / busyUs : 0)
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ fn: f.fn, where: f.where, selfMs: f.us / 1000, share: share(f.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: us / 1000, share: share(us) })),
  }
}
