/**
 * The kiosk: one board per line, fed by /ws/kiosk. The failures list is seeded from the results
 * history so a kiosk switched on mid-shift shows the recent failures at once.
 */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { PartCounts } from '../../shared/domain/part-counts.ts'
import { fetchPartCounts, fetchRecentFailures } from '../api/endpoints.ts'
import { KIOSK_FAILURES_SHOWN } from '../config.ts'
import { addFailures, applyResult, newBoard, type LineBoard } from '../kiosk/board.ts'
import { KioskLink, type KioskLinkEvent } from '../uplink/kiosk-link.ts'
import { wsUrl } from '../uplink/url.ts'
import { useConnectionStore } from './connection.ts'

/** Parts are counted in the database; a kiosk asks again this often. */
const PART_COUNTS_POLL_MS = 5000
/** Hours of part counts a kiosk shows. */
const PART_HOURS = 8

export const useKioskStore = defineStore('kiosk', () => {
  const connection = useConnectionStore()
  const lines = ref<string[]>([])
  const boards = reactive<Record<string, LineBoard>>({})
  const lastError = ref<(WireError & { at: number }) | null>(null)
  /** Part counts per line (docs/parts.md), refreshed every PART_COUNTS_POLL_MS. */
  const parts = reactive<Record<string, PartCounts>>({})
  let link: KioskLink | null = null
  let partTimer: ReturnType<typeof setInterval> | null = null

  function fail(error: WireError): void {
    lastError.value = { ...error, at: Date.now() }
  }

  function onEvent(e: KioskLinkEvent): void {
    if (e.type === 'status') connection.report('kiosk', e.status)
    else if (e.type === 'error') fail(e.error)
    else if (e.type === 'result') {
      const board = boards[e.result.line]
      // a result of a line we did not ask for means the server's filter is wrong; show it
      if (!board) fail({ code: 'unexpected_line', message: `result for line ${e.result.line}, which this kiosk does not show` })
      else applyResult(board, e.result, e.receivedAt, KIOSK_FAILURES_SHOWN)
    }
  }

  async function seed(line: string): Promise<void> {
    const r = await fetchRecentFailures(line, KIOSK_FAILURES_SHOWN)
    const board = boards[line]
    if (!board) return
    if (r.ok) addFailures(board, r.value, KIOSK_FAILURES_SHOWN)
    else fail(r.error)
  }

  async function refreshParts(line: string): Promise<void> {
    const r = await fetchPartCounts(line, PART_HOURS)
    if (!lines.value.includes(line)) return
    if (r.ok) parts[line] = r.value
    else fail(r.error)
  }

  function start(ids: string[]): void {
    stop()
    const now = Date.now()
    lines.value = ids
    for (const id of ids) boards[id] = newBoard(id, now)
    link = new KioskLink({ lines: ids, url: () => wsUrl('/ws/kiosk'), onEvent })
    link.start()
    for (const id of ids) void seed(id)
    const poll = () => {
      for (const id of ids) void refreshParts(id)
    }
    poll()
    partTimer = setInterval(poll, PART_COUNTS_POLL_MS)
  }

  function stop(): void {
    link?.stop()
    link = null
    if (partTimer) clearInterval(partTimer)
    partTimer = null
    connection.forget('kiosk')
    for (const k of Object.keys(boards)) delete boards[k]
    for (const k of Object.keys(parts)) delete parts[k]
    lines.value = []
    lastError.value = null
  }

  function retryNow(): void {
    link?.retryNow()
  }

  return { lines, boards, parts, lastError, start, stop, retryNow }
})
