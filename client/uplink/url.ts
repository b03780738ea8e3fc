/** WebSocket URL of a server path on the page's own origin (wss when the page is https). */
export function wsUrl(path: string, loc: Pick<Location, 'protocol' | 'host'> = location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${loc.host}${path}`
}
