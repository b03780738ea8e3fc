/**
 * Archives and images made to order for the upload tests, including hostile ones a normal
 * archiver would not write: entry names that climb out of the folder, sizes that lie, bombs.
 * Written by hand (zip) or with tar-stream, so nothing depends on a system `zip`.
 */
import { crc32, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import tar from 'tar-stream'

export interface ZipInput {
  name: string
  data: Uint8Array
  /** deflate (default) or store. */
  method?: 'deflate' | 'store'
  /** Claim this uncompressed size instead of the real one (a lying zip bomb). */
  declaredSize?: number
}

const u16 = (v: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(v)
  return b
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v >>> 0)
  return b
}

/** A zip (no zip64: under 65535 entries and 4 GiB) with UTF-8 names and Unix file modes. */
export function makeZip(entries: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const method = e.method === 'store' ? 0 : 8
    const body = method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data)
    const crc = crc32(e.data)
    const size = e.declaredSize ?? e.data.length
    const common = [u16(20), u16(0x800), u16(method), u16(0), u16(0x21), u32(crc), u32(body.length), u32(size), u16(name.length), u16(0)]
    const local = Buffer.concat([u32(0x04034b50), ...common, name, body])
    central.push(Buffer.concat([u32(0x02014b50), u16((3 << 8) | 20), ...common, u16(0), u16(0), u16(0), u32(0o100644 << 16), u32(offset), name]))
    locals.push(local)
    offset += local.length
  }
  const cd = Buffer.concat(central)
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(cd.length), u32(offset), u16(0)])
  return Buffer.concat([...locals, cd, end])
}

export interface TarInput {
  name: string
  data?: Uint8Array
  type?: 'file' | 'directory' | 'symlink'
  linkname?: string
}

export async function makeTar(entries: readonly TarInput[], opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const pack = tar.pack()
  const out: Buffer[] = []
  const done = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) out.push(chunk)
  })()
  for (const e of entries) {
    const type = e.type ?? 'file'
    await new Promise<void>((resolve, reject) => {
      const header = { name: e.name, type, ...(e.linkname ? { linkname: e.linkname } : {}) }
      if (type === 'file') pack.entry(header, Buffer.from(e.data ?? new Uint8Array(0)), (err) => (err ? reject(err) : resolve()))
      else pack.entry(header, (err) => (err ? reject(err) : resolve()))
    })
  }
  pack.finalize()
  await done
  const tarball = Buffer.concat(out)
  return opts.gzip ? gzipSync(tarball) : tarball
}

function pngChunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'ascii')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([t, data])))
  return Buffer.concat([len, t, data, crc])
}

/**
 * A decompression bomb: a valid one-colour PNG of width x height 1-bit grey pixels that
 * compresses to a few tens of KB (20000 x 20000 = 400 megapixels, over 1 GB once decoded as RGB).
 */
const bombs = new Map<string, Buffer>()

export function bombPng(width = 20_000, height = 20_000): Buffer {
  const key = `${width}x${height}`
  const made = bombs.get(key)
  if (made) return made
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 1 // bit depth
  ihdr[9] = 0 // greyscale
  const row = 1 + Math.ceil(width / 8) // filter byte + packed pixels
  const idat = deflateSync(Buffer.alloc(row * height), { level: 9 })
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))])
  bombs.set(key, png)
  return png
}
