import { describe, expect, it } from 'vitest'
import type { LoadReport, RoutingPolicy } from '../../shared/domain/load.ts'
import { AdaptiveRouter, type HysteresisOptions, type RouteContext, type RouteDecision } from './route.ts'

const hysteresis: HysteresisOptions = { marginRatio: 0.2, marginMs: 5, confirmDecisions: 5, confirmMs: 1_000, minDwellMs: 3_000 }

function load(over: Partial<LoadReport> = {}): LoadReport {
  return { at: 0, queueDepth: 0, inFlight: 0, workers: 2, p95Ms: 20, estimatedWaitMs: 0, serverInferMs: 15, policy: 'auto', paused: false, ...over }
}

/** A station that decides once per frame at `fps`, on a simulated clock. */
class Script {
  now = 0
  readonly decisions: { at: number; d: RouteDecision }[] = []
  context: RouteContext

  constructor(
    readonly router: AdaptiveRouter,
    policy: RoutingPolicy = 'auto',
  ) {
    this.context = { now: 0, policy, load: load(), serverOnline: true, localReady: true, localMs: 40, serverOverheadMs: 5 }
  }

  set(over: Partial<RouteContext>): this {
    this.context = { ...this.context, ...over }
    return this
  }

  /** Decides for every frame during `ms` at `fps`; returns the targets in order. */
  run(ms: number, fps = 10): string[] {
    const out: string[] = []
    for (const end = this.now + ms; this.now < end; this.now += 1000 / fps) {
      const d = this.router.route({ ...this.context, now: this.now })
      this.decisions.push({ at: this.now, d })
      out.push(d.target)
    }
    return out
  }
}

const switches = (targets: string[]) => targets.filter((t, i) => i > 0 && t !== targets[i - 1]).length

describe('frame routing', () => {
  it('stays on the server while it is the faster side', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 60 })
    // server: 5 ms overhead + 0 wait + 15 ms model = 20 ms against 60 ms locally
    expect(new Set(s.run(10_000))).toEqual(new Set(['server']))
  })

  it('moves to the browser once the server queue makes it slower, after the confirmation window', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 40 })
    s.run(5_000)
    s.set({ load: load({ queueDepth: 40, estimatedWaitMs: 300 }) })
    const after = s.run(3_000)
    const firstBrowser = after.indexOf('browser')
    // not on the first slow report: it takes both 5 decisions and 1 s of the server being slower
    expect(firstBrowser).toBe(10)
    expect(after.slice(firstBrowser).every((t) => t === 'browser')).toBe(true)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'browser', reason: 'faster' })
  })

  it('moves back to the server when the queue drains', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 40, load: load({ estimatedWaitMs: 300 }) })
    expect(s.run(5_000).at(-1)).toBe('browser')
    s.set({ load: load({ estimatedWaitMs: 0 }) })
    expect(s.run(5_000).at(-1)).toBe('server')
  })

  it('does not flap when the two sides are within the margin of each other', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 20 })
    const targets: string[] = []
    // the server alternates between 18 ms and 24 ms expected, around the local 20 ms
    for (let i = 0; i < 200; i++) {
      s.set({ load: load({ estimatedWaitMs: i % 2 ? 4 : 0, serverInferMs: 13 }) })
      targets.push(...s.run(100))
    }
    expect(switches(targets)).toBe(0)
  })

  it('does not follow a slow report that lasts less than the confirmation time', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 40 })
    const targets: string[] = []
    for (let burst = 0; burst < 20; burst++) {
      s.set({ load: load({ estimatedWaitMs: 500 }) })
      targets.push(...s.run(800)) // 8 slow decisions, but only 0.8 s
      s.set({ load: load() })
      targets.push(...s.run(500))
    }
    expect(new Set(targets)).toEqual(new Set(['server']))
  })

  it('keeps a side for the minimum dwell time even when the other side becomes faster at once', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 40, load: load({ estimatedWaitMs: 300 }) })
    s.run(1_100)
    const switchedAt = s.decisions.find((x) => x.d.target === 'browser')!.at
    s.set({ load: load() })
    const back = s.run(6_000)
    const returnedAt = s.decisions.find((x) => x.at > switchedAt && x.d.target === 'server')!.at
    expect(returnedAt - switchedAt).toBeGreaterThanOrEqual(hysteresis.minDwellMs)
    expect(back.at(-1)).toBe('server')
  })

  it('goes local at once when the server pauses inference, and comes back when it resumes', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 200 })
    expect(s.run(2_000).at(-1)).toBe('server')
    s.set({ load: load({ paused: true, estimatedWaitMs: 9e9 }) })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'browser', reason: 'paused' })
    s.set({ load: load() })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'server', reason: 'faster' })
  })

  it('goes local at once when the server asks stations to offload', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localMs: 200, load: load({ offload: true }) })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'browser', reason: 'offload' })
  })

  it('goes local when the socket is down, and drops frames when no local backend works either', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ serverOnline: false })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'browser', reason: 'offline' })
    s.set({ localReady: false })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'none', reason: 'unreachable' })
  })

  it('uses the server while no local backend is ready, whatever the load', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ localReady: false, localMs: null, load: load({ paused: true }) })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'server', reason: 'no-local' })
  })

  it('lets server-only win over a paused, offloading or slow server', () => {
    const s = new Script(new AdaptiveRouter(hysteresis), 'server-only').set({ localMs: 1, load: load({ paused: true, offload: true, estimatedWaitMs: 9e9 }) })
    expect(new Set(s.run(5_000))).toEqual(new Set(['server']))
    s.set({ serverOnline: false })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'none', reason: 'offline' })
  })

  it('lets browser-preferred win over a faster server', () => {
    const s = new Script(new AdaptiveRouter(hysteresis), 'browser-preferred').set({ localMs: 500 })
    expect(new Set(s.run(5_000))).toEqual(new Set(['browser']))
    expect(s.decisions.at(-1)!.d.reason).toBe('policy')
  })

  it('takes the policy from the load report until the line settings arrive', () => {
    const s = new Script(new AdaptiveRouter(hysteresis)).set({ policy: null, load: load({ policy: 'browser-preferred' }), localMs: 500 })
    s.run(100)
    expect(s.decisions.at(-1)!.d).toEqual({ target: 'browser', reason: 'policy' })
  })
})
