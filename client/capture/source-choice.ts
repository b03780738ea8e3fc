/**
 * The source an operator picked, remembered per line and station: a tablet mounted at station S1
 * keeps using its back camera after a reload, while the same tablet moved to S2 asks again.
 */
import { localStore } from '../local-storage.ts'

export type SourceChoice = { kind: 'camera'; deviceId: string } | { kind: 'demo' }

const key = (line: string, station: string) => `linesight.source:${line}/${station}`

export function loadSourceChoice(line: string, station: string, store: Storage | null = localStore()): SourceChoice | null {
  const raw = store?.getItem(key(line, station))
  if (!raw) return null
  if (raw === 'demo') return { kind: 'demo' }
  if (raw.startsWith('camera:') && raw.length > 7) return { kind: 'camera', deviceId: raw.slice(7) }
  return null
}

/** False when the choice could not be kept; it then only costs the operator one more pick after a reload. */
export function saveSourceChoice(line: string, station: string, choice: SourceChoice, store: Storage | null = localStore()): boolean {
  if (!store) return false
  try {
    store.setItem(key(line, station), choice.kind === 'demo' ? 'demo' : `camera:${choice.deviceId}`)
    return true
  } catch {
    return false
  }
}
