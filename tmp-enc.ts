import sharp from 'sharp'
import jpegTurbo from '@julusian/jpeg-turbo'
import { readFileSync } from 'node:fs'
sharp.cache(false); sharp.concurrency(1)
const rgbs = await Promise.all([0,1,2,3].map((i) => sharp(readFileSync(`/work/scratch/ms${i}.jpg`)).raw().toBuffer()))
const n = 500
for (const k of [0, 1, 0, 1]) {
  const c0 = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const rgb = rgbs[i % 4]!
    if (k === 0) await sharp(rgb, { raw: { width: 320, height: 240, channels: 3 } }).resize(320, 320, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 75, mozjpeg: false }).toBuffer()
    else jpegTurbo.compressSync(rgb, { format: jpegTurbo.FORMAT_RGB, width: 320, height: 240, quality: 75, subsampling: jpegTurbo.SAMP_420 })
  }
  const c = process.cpuUsage(c0); console.log(k ? 'turbo' : 'sharp', ((c.user + c.system) / 1000 / n).toFixed(3))
}
const a = await sharp(rgbs[0], { raw: { width: 320, height: 240, channels: 3 } }).jpeg({ quality: 75, mozjpeg: false }).toBuffer()
const b = jpegTurbo.compressSync(rgbs[0]!, { format: jpegTurbo.FORMAT_RGB, width: 320, height: 240, quality: 75, subsampling: jpegTurbo.SAMP_420 })
console.log('bytes', a.length, b.length)
