import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/wait.ts'
import { pickCoding } from './compressed.ts'
import { StaticFiles } from './static-files.ts'

describe('pickCoding', () => {
  it.each([
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['*', 'br'],
    ['identity', undefined],
    ['', undefined],
  ])('%j -> %s', (header, coding) => {
    expect(pickCoding(header)).toBe(coding)
  })
})

describe('static files, compressed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linesight-static-'))
  const js = Buffer.from('export const x = 1;\n'.repeat(5000))
  writeFileSync(join(dir, 'app.js'), js)
  writeFileSync(join(dir, 'icon.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]))
  const files = new StaticFiles(dir)
  const get = (path: string, accept?: string) => files.serve({ path, headers: accept ? { 'accept-encoding': accept } : {} })

  it('serves brotli or gzip once compressed, with Vary and an ETag per coding, and the same bytes', async () => {
    const br = await waitFor(async () => {
      const r = await get('/app.js', 'gzip, br')
      return r.headers?.['content-encoding'] === 'br' ? r : undefined
    }, { what: 'the brotli copy' })
    expect(br.headers).toMatchObject({ vary: 'accept-encoding', 'cache-control': 'no-cache' })
    expect(brotliDecompressSync(br.body as Uint8Array).equals(js)).toBe(true)
    expect((br.body as Uint8Array).length).toBeLessThan(js.length / 10)
    const gz = await get('/app.js', 'gzip')
    expect(gz.headers?.['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body as Uint8Array).equals(js)).toBe(true)
    const plain = await get('/app.js')
    expect(plain.headers?.['content-encoding']).toBeUndefined()
    expect(plain.headers?.vary).toBe('accept-encoding')
    expect(new Set([br.headers?.etag, gz.headers?.etag, plain.headers?.etag]).size).toBe(3)
  })

  it('answers 304 for the ETag of the coding the client gets', async () => {
    const br = await get('/app.js', 'br')
    const again = await files.serve({ path: '/app.js', headers: { 'accept-encoding': 'br', 'if-none-match': br.headers!.etag! } })
    expect(again.status).toBe(304)
  })

  it('leaves images as they are', async () => {
    const r = await get('/icon.png', 'br')
    expect(r.headers?.['content-encoding']).toBeUndefined()
    expect(r.headers?.vary).toBeUndefined()
  })
})
