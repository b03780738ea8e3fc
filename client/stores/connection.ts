/**
 * Connection state of every live link (the station uplink, the kiosk feed), for the badges in the
 * views and the app bar. Links report here; nothing else writes it.
 */
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import type { LinkStatus } from '../uplink/socket.ts'

export type LinkName = 'station' | 'kiosk'

export const useConnectionStore = defineStore('connection', () => {
  const links = reactive<Partial<Record<LinkName, LinkStatus>>>({})

  function report(name: LinkName, status: LinkStatus): void {
    links[name] = status
  }

  function forget(name: LinkName): void {
    delete links[name]
  }

  return { links, report, forget }
})
