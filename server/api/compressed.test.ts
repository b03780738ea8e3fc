import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/wait.ts'
import { CompressedCopies, pickCoding } from './compressed.ts'
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

describe('compressed copies kept in a folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'linesight-static-'))
  const dir = join(root, 'compressed')
  const js = Buffer.from('export const y = 2;\n'.repeat(4000))
  writeFileSync(join(root, 'app.js'), js)
  const etag = createHash('sha1').update(js).digest('base64url')
  const brOf = (files: StaticFiles) =>
    waitFor(async () => {
      const r = await files.serve({ path: '/app.js', headers: { 'accept-encoding': 'br' } })
      return r.headers?.['content-encoding'] === 'br' ? (r.body as Uint8Array) : undefined
    }, { what: 'the brotli copy' })

  it('writes both copies under the ETag, whole', async () => {
    const br = await brOf(new StaticFiles(root, { dir }))
    await waitFor(() => existsSync(join(dir, `${etag}.br`)) && existsSync(join(dir, `${etag}.gz`)), { what: 'both copies in the folder' })
    expect(brotliDecompressSync(br).equals(js)).toBe(true)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('serves what an earlier process left there instead of compressing again', async () => {
    // copies made at other settings than the server's: the bytes tell where they came from
    const earlierBr = brotliCompressSync(js, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })
    writeFileSync(join(dir, `${etag}.br`), earlierBr)
    writeFileSync(join(dir, `${etag}.gz`), gzipSync(js, { level: 1 }))
    const br = await brOf(new StaticFiles(root, { dir }))
    expect(Buffer.from(br).equals(earlierBr)).toBe(true)
  })

  it('keeps the folder under its bound, the least recently written file going first', async () => {
    const small = join(root, 'bounded')
    const bodies = ['a', 'b'].map((c) => Buffer.from(`${c}-${'0123456789'.repeat(2000)}`))
    // room for one file's two copies and a half: the second file's copies push the first one's out
    const pair = (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length + gzipSync(b, { level: 9 }).length
    const copies = new CompressedCopies({ dir: small, maxBytes: Math.ceil(Math.max(...bodies.map(pair)) * 1.5) })
    const written = (i: number) => ['br', 'gz'].every((ext) => existsSync(join(small, `e${i}.${ext}`)))
    await waitFor(() => copies.get('f0', '"e0"', bodies[0]!, 'br'), { what: 'copy 0' })
    await waitFor(() => written(0), { what: 'copy 0 in the folder' })
    const hourAgo = new Date(Date.now() - 3_600_000)
    for (const ext of ['br', 'gz']) utimesSync(join(small, `e0.${ext}`), hourAgo, hourAgo)
    await waitFor(() => copies.get('f1', '"e1"', bodies[1]!, 'br'), { what: 'copy 1' })
    await waitFor(() => !existsSync(join(small, 'e0.br')), { what: 'the older copies removed' })
    expect(readdirSync(small).sort()).toEqual(['e1.br', 'e1.gz'])
  })
})
