import { describe, expect, it } from 'vitest'
import { closedPart } from '../../test/helpers/parts.ts'
import { StationBoard } from './board.ts'
import { OutputDispatcher } from './dispatcher.ts'
import { parseTriggerPayload } from './mqtt.ts'
import type { OutputSink, StationChange, StationState } from './types.ts'
import { checkWebhookUrl } from './webhooks/hosts.ts'
import { LocalResultBus } from '../results/bus.ts'

describe('station board', () => {
  it('counts parts and fails per station and line, with yield and the last minute\'s throughput', () => {
    const b = new StationBoard(0)
    b.partClosed(closedPart({ verdict: 'pass' }), 1000)
    b.partClosed(closedPart({ verdict: 'fail' }), 2000)
    b.partClosed(closedPart({ verdict: null }), 3000) // nobody judged it: it does not pass
    b.partClosed(closedPart({ verdict: 'pass', station: 'S2' }), 61_500)
    expect(b.get('L1', 'S1')).toMatchObject({ partsInspected: 3, partsFailed: 2, lastVerdict: null })
    // the part at 1 s left the window; those at 2 s, 3 s and 61.5 s are in it
    expect(b.stats('L1', 61_500)).toMatchObject({ parts: 4, fails: 2, yield: 0.5, throughputPerMin: 3 })
    expect(b.stats('L9', 0)).toMatchObject({ parts: 0, fails: 0, yield: null, throughputPerMin: 0 })
  })
})

describe('dispatcher', () => {
  const recorder = () => {
    const seen: string[] = []
    const sink: OutputSink = {
      name: 'mqtt',
      part: (p) => seen.push(`part ${p.partId}`),
      result: (r) => seen.push(`result ${r.frameId}`),
      station: (s: StationState, c: StationChange) => seen.push(`${c} ${s.line}/${s.station}`),
      close: async () => undefined,
    }
    return { seen, sink }
  }

  it('reports stations coming and going from the sessions connected', async () => {
    const { seen, sink } = recorder()
    const here = [{ line: 'L1', station: 'S1' }]
    const d = new OutputDispatcher({ sinks: [sink], results: new LocalResultBus(), presence: () => here, statsIntervalMs: 60_000, presenceIntervalMs: 60_000, log: { warn: () => undefined } })
    d.lookAtPresence()
    d.lookAtPresence()
    here.pop()
    d.lookAtPresence()
    expect(seen).toEqual(['online L1/S1', 'offline L1/S1'])
    await d.close()
  })

  it('passes on frames of continuous stations only, and never an uploaded archive\'s', async () => {
    const { seen, sink } = recorder()
    const bus = new LocalResultBus()
    const d = new OutputDispatcher({ sinks: [sink], results: bus, modeOf: (_l, st) => (st === 'S2' ? 'trigger' : undefined), statsIntervalMs: 60_000, log: { warn: () => undefined } })
    const frame = (frameId: string, station: string, jobId?: string) => ({
      frameId, line: 'L1', station, capturedAt: 0, model: { name: 'm', version: '1' }, inferredAt: 'server' as const, ep: 'cpu', detections: [], verdict: 'pass' as const, timings: {}, ...(jobId ? { jobId } : {}),
    })
    await bus.publish(frame('a', 'S1'))
    await bus.publish(frame('b', 'S2'))
    await bus.publish(frame('c', 'S1', 'job-1'))
    expect(seen).toEqual(['result a', 'mode L1/S2'])
    await d.close()
  })

  it('keeps feeding the other outputs when one throws', async () => {
    const { seen, sink } = recorder()
    const broken: OutputSink = { name: 'webhook', part: () => { throw new Error('boom') }, close: async () => undefined }
    const warnings: string[] = []
    const d = new OutputDispatcher({ sinks: [broken, sink], results: new LocalResultBus(), statsIntervalMs: 60_000, log: { warn: (_o, m) => warnings.push(m) } })
    const p = closedPart()
    d.part(p)
    expect(seen).toEqual([`part ${p.partId}`, 'part L1/S1'])
    expect(warnings).toHaveLength(1)
    await d.close()
  })
})

describe('MQTT trigger payload', () => {
  it('takes nothing, {} or a part id, and refuses everything else with a reason', () => {
    expect(parseTriggerPayload(Buffer.from(''))).toEqual({})
    expect(parseTriggerPayload(Buffer.from('{}'))).toEqual({})
    expect(parseTriggerPayload(Buffer.from('{"partId":"SN/1#2"}'))).toEqual({ partId: 'SN/1#2' })
    expect(parseTriggerPayload(Buffer.from('{"partId":""}'))).toHaveProperty('error')
    expect(parseTriggerPayload(Buffer.from('{"part":"x"}'))).toEqual({ error: 'unknown keys: part' })
    expect(parseTriggerPayload(Buffer.from('[1]'))).toHaveProperty('error')
    expect(parseTriggerPayload(Buffer.from('not json'))).toHaveProperty('error')
    expect(parseTriggerPayload(Buffer.alloc(2000, 32))).toEqual({ error: 'the payload is over 1 KiB' })
  })
})

describe('webhook URLs', () => {
  it('accepts plain http to plant and loopback addresses unless the allowed hosts say otherwise', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8000/mes', [])).toMatchObject({ ok: true })
    expect(checkWebhookUrl('http://[::1]:8000/mes', ['::1'])).toMatchObject({ ok: true })
    expect(checkWebhookUrl('https://MES.plant.local/x', ['mes.plant.local'])).toMatchObject({ ok: true })
    expect(checkWebhookUrl('https://other.plant.local/x', ['mes.plant.local'])).toMatchObject({ ok: false })
    expect(checkWebhookUrl('http://u:p@mes/x', [])).toMatchObject({ ok: false })
    expect(checkWebhookUrl('file:///etc/passwd', [])).toMatchObject({ ok: false })
    expect(checkWebhookUrl('/relative', [])).toMatchObject({ ok: false })
  })
})
